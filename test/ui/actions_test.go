package ui

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/test/harness"
)

const readerToken = "ui-reader-token-0123456789"

// authTokens are the tokens of the action tests: an admin and a reader.
var authTokens = map[string]model.Principal{
	adminToken:  {User: "ada", Role: model.RoleAdmin},
	readerToken: {User: "rita", Role: model.RoleReader},
}

// taskRow selects the row of job id's task on host.
func taskRow(id model.JobID, host string) string {
	return fmt.Sprintf(`tr.task[data-job=%q][data-host=%q]`, id, host)
}

// deployment is job id's deployment on host per the API; ok is false when there is none.
func deployment(t *testing.T, base string, id model.JobID, host string) (model.Deployment, bool) {
	t.Helper()
	var st model.JobStatus
	call(t, base, "GET", "/jobs/"+string(id)+"/status", nil, &st)
	d, ok := st.Deployments[host]
	return d, ok
}

// groupStatus is the group's rollout state per the API.
func groupStatus(t *testing.T, base, name string) model.DeploymentGroupStatusResponse {
	t.Helper()
	var st model.DeploymentGroupStatusResponse
	call(t, base, "GET", "/deployment-group/"+name+"/status", nil, &st)
	return st
}

// asked waits until the page has asked n questions, and returns the last.
func asked(t *testing.T, ctx context.Context, shots string, n int) string {
	t.Helper()
	steps(t, ctx, shots, fmt.Sprintf("question-%d", n), until(fmt.Sprintf(`window.heliosAsked.length === %d`, n)))
	return value[string](t, ctx, `window.heliosAsked[window.heliosAsked.length - 1]`)
}

// TestDashboardStopsStartsAndUndeploysATask drives a task's buttons: stop and undeploy ask
// first (no: nothing is sent, nothing changes; yes: the change shows live), start does not.
func TestDashboardStopsStartsAndUndeploysATask(t *testing.T) {
	ctx := browser(t)
	shots := t.TempDir()
	m := harness.StartMaster(t, harness.WithTokens(authTokens))
	harness.StartHollow(t, harness.Hollow{Name: "web-1", Store: m.Store, Labels: map[string]string{"role": "web"}})
	waitUp(t, m.URL, "web-1")
	var created model.CreateJobResponse
	call(t, m.URL, "POST", "/jobs", model.Job{ID: "web:1", Image: "busybox", Command: []string{"httpd", "-f"}}, &created)
	id := created.ID
	call(t, m.URL, "PUT", "/hosts/web-1/jobs/"+string(id), model.Deployment{Goal: model.GoalStart}, nil)
	row := taskRow(id, "web-1")

	signIn(t, ctx, shots, m.URL, adminToken, row+` .badge.RUNNING`)
	steps(t, ctx, shots, "record", eval(recordPage), eval(`window.heliosTestMarker = true`))

	// Stop, answered no: the question names the task, and nothing is sent.
	steps(t, ctx, shots, "stop-cancelled", answer(false), chromedp.Click(chromedp.CSS(row+` button.stop`)))
	if q := asked(t, ctx, shots, 1); !strings.Contains(q, "stop "+string(id)+" on web-1") {
		t.Errorf("stop asked %q, want it to name the task", q)
	}
	if n := countCalls(t, ctx, "PATCH "); n != 0 {
		t.Errorf("stop answered no sent %d PATCH requests", n)
	}
	if d, _ := deployment(t, m.URL, id, "web-1"); d.Goal != model.GoalStart {
		t.Fatalf("after a cancelled stop the goal is %q, want START", d.Goal)
	}

	// Stop, answered yes: goal STOP, and the task's STOPPED comes live.
	steps(t, ctx, shots, "stop",
		answer(true),
		chromedp.Click(chromedp.CSS(row+` button.stop`)),
		chromedp.WaitVisible(chromedp.CSS(row+` .badge.STOPPED`)),
		until(fmt.Sprintf(`document.querySelector(%q).textContent === "STOP"`, row+` td.goal`)),
	)
	if n := asked(t, ctx, shots, 2); !strings.Contains(n, "stop") {
		t.Errorf("second question %q", n)
	}
	if d, _ := deployment(t, m.URL, id, "web-1"); d.Goal != model.GoalStop {
		t.Fatalf("after stop the goal is %q, want STOP", d.Goal)
	}
	screenshot(t, ctx, shots, "1-stopped")

	// Start asks nothing: it undoes nothing.
	steps(t, ctx, shots, "start",
		chromedp.Click(chromedp.CSS(row+` button.start`)),
		chromedp.WaitVisible(chromedp.CSS(row+` .badge.RUNNING`)),
		until(fmt.Sprintf(`document.querySelector(%q).textContent === "START"`, row+` td.goal`)),
	)
	if n := value[int](t, ctx, `window.heliosAsked.length`); n != 2 {
		t.Errorf("start asked a question: %d questions in all, want 2", n)
	}
	if d, _ := deployment(t, m.URL, id, "web-1"); d.Goal != model.GoalStart {
		t.Fatalf("after start the goal is %q, want START", d.Goal)
	}

	// Undeploy, answered no, then yes: the row goes away live.
	steps(t, ctx, shots, "undeploy-cancelled", answer(false), chromedp.Click(chromedp.CSS(row+` button.undeploy`)))
	if q := asked(t, ctx, shots, 3); !strings.Contains(q, "undeploy "+string(id)+" from web-1") {
		t.Errorf("undeploy asked %q, want it to name the task", q)
	}
	if n := countCalls(t, ctx, "DELETE "); n != 0 {
		t.Errorf("undeploy answered no sent %d DELETE requests", n)
	}
	if _, ok := deployment(t, m.URL, id, "web-1"); !ok {
		t.Fatalf("a cancelled undeploy removed the deployment")
	}
	steps(t, ctx, shots, "undeploy",
		answer(true),
		chromedp.Click(chromedp.CSS(row+` button.undeploy`)),
		chromedp.WaitNotPresent(chromedp.CSS(row)),
	)
	if _, ok := deployment(t, m.URL, id, "web-1"); ok {
		t.Fatalf("after undeploy web-1 still has %s", id)
	}
	if !value[bool](t, ctx, `window.heliosTestMarker === true`) {
		t.Errorf("the page was reloaded: it must update live")
	}
	if msg := value[string](t, ctx, `document.getElementById("error").textContent`); msg != "" {
		t.Errorf("the page shows an error: %s", msg)
	}
}

// waitFor polls cond until it holds, failing the test after stepTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(stepTimeout); !cond(); time.Sleep(pollEvery) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, stepTimeout)
		}
	}
}

// waitUp waits until the hollow agents of hosts are registered and UP, with their labels
// (every host of these tests has some).
func waitUp(t *testing.T, base string, hosts ...string) {
	t.Helper()
	waitFor(t, strings.Join(hosts, " and ")+" up", func() bool {
		var st map[string]model.HostStatus
		call(t, base, "POST", "/hosts/statuses", hosts, &st)
		for _, h := range hosts {
			if s, ok := st[h]; !ok || s.Status != model.HostUp || len(s.Labels) == 0 {
				return false
			}
		}
		return true
	})
}

// heldRollout starts a rollout of group "web" (hosts web-1 and web-2) that stays
// ROLLING_OUT: its job's exec health check fails until release is called.
func heldRollout(t *testing.T, m *harness.Master) (id model.JobID, release func()) {
	t.Helper()
	var passing atomic.Bool
	for _, name := range []string{"web-1", "web-2"} {
		h := harness.StartHollow(t, harness.Hollow{Name: name, Store: m.Store, Labels: map[string]string{"role": "web"}})
		h.Runtime.SetExec(func(string, []string) (int, error) {
			if passing.Load() {
				return 0, nil
			}
			return 1, nil
		})
	}
	// Both hosts first: a host that joined the group during the rollout would get the job
	// later, out of the rollout's order.
	waitUp(t, m.URL, "web-1", "web-2")
	call(t, m.URL, "POST", "/deployment-group", model.DeploymentGroup{Name: "web", HostSelectors: []model.HostSelector{{Label: "role", Operator: model.OpEquals, Operand: []string{"web"}}}}, nil)
	var created model.CreateJobResponse
	call(t, m.URL, "POST", "/jobs", model.Job{ID: "svc:1", Image: "busybox", HealthCheck: &model.HealthCheck{Type: "exec", Command: []string{"check"}}}, &created)
	call(t, m.URL, "POST", "/deployment-group/web/rolling-update", model.RollingUpdateRequest{Job: created.ID}, nil)
	// The rollout waits on the first host's health check: held there until released.
	waitFor(t, "the rollout of web under way on web-1", func() bool {
		d, ok := deployment(t, m.URL, created.ID, "web-1")
		return ok && d.Goal == model.GoalStart && groupStatus(t, m.URL, "web").Status == model.GroupRollingOut
	})
	return created.ID, func() { passing.Store(true) }
}

// TestDashboardStopsARollout stops a rollout held in progress: the page asks (no: it goes
// on), then shows the group FAILED, stopped by the user, as the API says.
func TestDashboardStopsARollout(t *testing.T) {
	ctx := browser(t)
	shots := t.TempDir()
	m := harness.StartMaster(t, harness.WithTokens(authTokens))
	_, release := heldRollout(t, m)
	defer release()
	group := `tr[data-group="web"]`

	signIn(t, ctx, shots, m.URL, adminToken, group+` .badge.ROLLING_OUT`)
	steps(t, ctx, shots, "record", eval(recordPage))
	steps(t, ctx, shots, "stop-cancelled", answer(false), chromedp.Click(chromedp.CSS(group+` button.danger`)))
	if q := asked(t, ctx, shots, 1); !strings.Contains(q, "stop the rollout of group web") {
		t.Errorf("stop rollout asked %q, want it to name the group", q)
	}
	if n := countCalls(t, ctx, "POST /deployment-group/web/stop"); n != 0 {
		t.Errorf("stop rollout answered no sent %d requests", n)
	}
	if st := groupStatus(t, m.URL, "web"); st.Status != model.GroupRollingOut {
		t.Fatalf("after a cancelled stop the group is %s, want ROLLING_OUT", st.Status)
	}

	steps(t, ctx, shots, "stop-rollout",
		answer(true),
		chromedp.Click(chromedp.CSS(group+` button.danger`)),
		chromedp.WaitVisible(chromedp.CSS(group+` .badge.FAILED`)),
		until(fmt.Sprintf(`document.querySelector(%q).textContent.includes(%q)`, group, model.StoppedByUser)),
		chromedp.WaitNotPresent(chromedp.CSS(group+` button.danger`)),
	)
	screenshot(t, ctx, shots, "1-rollout-stopped")
	st := groupStatus(t, m.URL, "web")
	if st.Status != model.GroupFailed || st.Error != model.StoppedByUser {
		t.Fatalf("the API says %s %q, want FAILED %q", st.Status, st.Error, model.StoppedByUser)
	}
}

// TestDashboardReaderCannotAct signs in with a reader's token: each action is refused with
// the API's 403 message shown on the page, and nothing changes.
func TestDashboardReaderCannotAct(t *testing.T) {
	ctx := browser(t)
	shots := t.TempDir()
	m := harness.StartMaster(t, harness.WithTokens(authTokens))
	id, release := heldRollout(t, m)
	defer release()
	group, row := `tr[data-group="web"]`, taskRow(id, "web-1")

	signIn(t, ctx, shots, m.URL, readerToken, row+` button.stop`)
	// The page says who it is signed in as, and greys out what a reader may not do.
	steps(t, ctx, shots, "who", until(`document.getElementById("who").textContent === "rita (reader)"`))
	if o := value[string](t, ctx, `getComputedStyle(document.querySelector('`+row+` button.stop')).opacity`); o == "1" {
		t.Errorf("a reader's stop button is not greyed out (opacity %s)", o)
	}
	steps(t, ctx, shots, "record", eval(recordPage), answer(true),
		chromedp.WaitVisible(chromedp.CSS(group+` .badge.ROLLING_OUT`)))

	refused := func(name, click, route string) {
		t.Helper()
		steps(t, ctx, shots, name,
			eval(`document.getElementById("error").textContent = ""`),
			chromedp.Click(chromedp.CSS(click)),
			until(fmt.Sprintf(`document.getElementById("error").textContent.includes(%q)`, "may not "+route)),
		)
		msg := value[string](t, ctx, `document.getElementById("error").textContent`)
		if !strings.Contains(msg, "rita (reader)") || !strings.Contains(msg, "needs the deployer role") {
			t.Errorf("%s: the page shows %q, want the API's 403 message", name, msg)
		}
	}
	refused("stop", row+` button.stop`, "PATCH /hosts/{host}/jobs/{id}")
	refused("undeploy", row+` button.undeploy`, "DELETE /hosts/{host}/jobs/{id}")
	refused("stop-rollout", group+` button.danger`, "POST /deployment-group/{name}/stop")
	steps(t, ctx, shots, "deploy-form",
		chromedp.WaitReady(chromedp.CSS(`#deploy-host option[value="web-2"]`)),
		chromedp.SetValue(chromedp.CSS(`#deploy-job`), string(id)),
		chromedp.SetValue(chromedp.CSS(`#deploy-host`), "web-2"),
	)
	refused("deploy", `#deploy-button`, "PUT /hosts/{host}/jobs/{id}")
	keep(t, screenshot(t, ctx, shots, "reader-refused"))

	if d, ok := deployment(t, m.URL, id, "web-1"); !ok || d.Goal != model.GoalStart {
		t.Errorf("web-1's deployment is %+v (present %v), want it kept with goal START", d, ok)
	}
	if d, ok := deployment(t, m.URL, id, "web-2"); ok {
		t.Errorf("the reader deployed on web-2: %+v", d)
	}
	if st := groupStatus(t, m.URL, "web"); st.Status != model.GroupRollingOut {
		t.Errorf("the group is %s, want ROLLING_OUT still", st.Status)
	}
}
