package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/test/harness"
)

// chromiumEnv names a browser binary other than Debian's chromium.
const chromiumEnv = "HELIOS_CHROMIUM"

const adminToken = "ui-admin-token-0123456789"

// stepTimeout bounds one browser step: generous, as the machine may be shared.
const stepTimeout = 60 * time.Second

// findChromium is the browser to drive, or the test reports it missing.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(chromiumEnv); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	harness.Missing(t, "no chromium on PATH (apt-get install chromium, or set %s)", chromiumEnv)
	return ""
}

// browser starts a headless chromium; it closes when the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(findChromium(t)),
		chromedp.WindowSize(1400, 1000),
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // chromium refuses to sandbox as root
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser, which lives as long as ctx: no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", findChromium(t), err)
	}
	return ctx
}

// steps runs actions one by one, each within a generous deadline, naming the one that fails
// and saving a screenshot of the page as it was then.
func steps(t *testing.T, ctx context.Context, dir, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for i, a := range actions {
		sctx, cancel := context.WithTimeout(ctx, stepTimeout)
		err := chromedp.Do(sctx, a)
		cancel()
		if err != nil {
			screenshot(t, ctx, dir, "failed-"+name)
			tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			text, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.innerText`))
			cancel()
			t.Fatalf("%s, step %d: %v; the page showed:\n%s", name, i+1, err, text)
		}
	}
}

// screenshot saves the whole page as name.png under dir.
func screenshot(t *testing.T, ctx context.Context, dir, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
	return p
}

// shotsEnv names a directory where the screenshots are also kept (docs/dashboard.png
// comes from there).
const shotsEnv = "HELIOS_UI_SHOTS"

// keep copies a screenshot to $HELIOS_UI_SHOTS, when set.
func keep(t *testing.T, path string) {
	t.Helper()
	dir := os.Getenv(shotsEnv)
	if dir == "" {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(path)), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// call sends a JSON request as the admin and decodes the answer into out.
func call(t *testing.T, base, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// TestDashboardDeploysAndFollowsLive signs in with a bearer token, deploys a job through
// the page and sees its task reach RUNNING from the event stream, with no reload.
func TestDashboardDeploysAndFollowsLive(t *testing.T) {
	ctx := browser(t)
	shots := t.TempDir()
	m := harness.StartMaster(t, harness.WithTokens(map[string]model.Principal{
		adminToken: {User: "ada", Role: model.RoleAdmin},
	}))
	hollow := map[string]*harness.HollowAgent{}
	for _, name := range []string{"web-1", "web-2", "web-3"} {
		hollow[name] = harness.StartHollow(t, harness.Hollow{Name: name, Store: m.Store, Labels: map[string]string{"role": "web"}})
	}
	// web-2's health check fails until the test lets it pass: the rolling update below
	// stays ROLLING_OUT, half done, for as long as the test looks at it.
	var web2Healthy atomic.Bool
	hollow["web-2"].Runtime.SetExec(func(string, []string) (int, error) {
		if web2Healthy.Load() {
			return 0, nil
		}
		return 1, nil
	})
	var created model.CreateJobResponse
	call(t, m.URL, "POST", "/jobs", model.Job{ID: "web:1", Image: "busybox", Command: []string{"httpd", "-f"}}, &created)
	id := string(created.ID)

	steps(t, ctx, shots, "login",
		chromedp.Navigate(m.URL+"/ui/"),
		// Authentication is on: the page asks for a token before anything else.
		chromedp.WaitVisible(chromedp.CSS(`#token-input`)),
		chromedp.SendKeys(chromedp.CSS(`#token-input`), adminToken),
		chromedp.Click(chromedp.CSS(`#login-button`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-host="web-2"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live.live`)),
		chromedp.WaitReady(chromedp.CSS(fmt.Sprintf(`#deploy-job option[value=%q]`, id))),
		until(`document.getElementById("who").textContent === "ada (admin)"`),
	)
	screenshot(t, ctx, shots, "1-loaded")

	// The page has loaded once; from here on, only the event stream can show the task.
	// A marker on window vanishes if the page is ever reloaded.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.heliosTestMarker = true`)); err != nil {
		t.Fatal(err)
	}
	steps(t, ctx, shots, "deploy",
		chromedp.SetValue(chromedp.CSS(`#deploy-job`), id),
		chromedp.SetValue(chromedp.CSS(`#deploy-host`), "web-1"),
		chromedp.Click(chromedp.CSS(`#deploy-button`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr.task[data-job=%q][data-host="web-1"] .badge.RUNNING`, id))),
	)
	keep(t, screenshot(t, ctx, shots, "2-running"))

	marker, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.heliosTestMarker === true`))
	if err != nil {
		t.Fatal(err)
	}
	if !marker {
		t.Errorf("the page was reloaded: it must update live")
	}
	running, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr[data-host="web-1"] td.running`)))
	if err != nil {
		t.Fatal(err)
	}
	events, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#events`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(strings.Fields(events), " "), "TASK_STATE web-1 "+id+" RUNNING") {
		t.Errorf("the event log does not show the task's RUNNING event:\n%s", events)
	}
	if running != "1" {
		t.Errorf("host web-1 shows %q running tasks, want 1", running)
	}
	// An agent's report of a suspected etcd restore shows as a badge on its host, live (its
	// event makes the page read the host again), and goes with the report.
	if err := m.Store.PutRestoreSuspected(context.Background(), "web-3", model.RestoreSuspicion{EtcdGeneration: 3, AgentGeneration: 9, Since: time.Now().UnixMilli(), HeldActions: 2}); err != nil {
		t.Fatal(err)
	}
	steps(t, ctx, shots, "restore-suspected",
		chromedp.WaitVisible(chromedp.CSS(`tr[data-host="web-3"] .badge.restore-suspected`)),
	)
	keep(t, screenshot(t, ctx, shots, "2b-restore-suspected"))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#hosts .badge.restore-suspected").length`)); err != nil || n != 1 {
		t.Errorf("%d restore-suspected badges (%v), want web-3's alone", n, err)
	}
	if err := m.Store.DeleteRestoreSuspected(context.Background(), "web-3"); err != nil {
		t.Fatal(err)
	}
	steps(t, ctx, shots, "restore-cleared",
		chromedp.WaitNotPresent(chromedp.CSS(`tr[data-host="web-3"] .badge.restore-suspected`)),
	)

	// A rolling update through the page: it asks first (answered yes here), then the group's
	// progress bar follows the rollout: held on web-2, whose health check fails, then done.
	call(t, m.URL, "POST", "/deployment-group", model.DeploymentGroup{Name: "web", HostSelectors: []model.HostSelector{{Label: "role", Operator: model.OpEquals, Operand: []string{"web"}}}}, nil)
	var v2 model.CreateJobResponse
	call(t, m.URL, "POST", "/jobs", model.Job{ID: "web:2", Image: "busybox", Command: []string{"httpd", "-f"},
		HealthCheck: &model.HealthCheck{Type: "exec", Command: []string{"true"}}}, &v2)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = () => true, true`)); err != nil {
		t.Fatal(err)
	}
	steps(t, ctx, shots, "rolling-update",
		chromedp.WaitVisible(chromedp.CSS(`tr[data-group="web"]`)),
		chromedp.SendKeys(chromedp.CSS(`#ru-group`), "web"),
		chromedp.SendKeys(chromedp.CSS(`#ru-job`), string(v2.ID)),
		chromedp.Click(chromedp.CSS(`#rolling-form button`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr.task[data-job=%q][data-host="web-1"] .badge.RUNNING`, v2.ID))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr.task[data-job=%q][data-host="web-2"] .badge.HEALTHCHECKING`, v2.ID))),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-group="web"] .badge.ROLLING_OUT`)),
	)
	keep(t, screenshot(t, ctx, shots, "3-rolling-out"))
	progress, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](
		`(() => { const p = document.querySelector('tr[data-group="web"] progress'); return [p.value, p.max]; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(progress) != 2 || progress[0] <= 0 || progress[0] >= progress[1] {
		t.Errorf("the group's progress bar during the rollout shows %v (value, max): want part done", progress)
	}
	web2Healthy.Store(true)
	steps(t, ctx, shots, "rolled-out",
		chromedp.WaitVisible(chromedp.CSS(`tr[data-group="web"] .badge.DONE`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr.task[data-job=%q][data-host="web-2"] .badge.RUNNING`, v2.ID))),
	)
	keep(t, screenshot(t, ctx, shots, "4-rolled-out"))

	// The deployment went through the API with the token's user.
	var st model.JobStatus
	call(t, m.URL, "GET", "/jobs/"+id+"/status", nil, &st)
	if d, ok := st.Deployments["web-1"]; !ok || d.DeployerUser != "ada" {
		t.Errorf("deployment on web-1: %+v, want one by ada", st.Deployments)
	}
}
