package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

const (
	v1 = model.JobID("svc:1:1111111111111111111111111111111111111111")
	v2 = model.JobID("svc:2:2222222222222222222222222222222222222222")
)

func hostSt(host string, id model.JobID, state model.State) model.GroupHostStatus {
	hs := model.GroupHostStatus{Host: host}
	if id != "" {
		hs.JobID = jobp(id)
	}
	if state != "" {
		hs.State = statep(state)
	}
	return hs
}

func groupSt(job model.JobID, status model.GroupState, hosts ...model.GroupHostStatus) *model.DeploymentGroupStatusResponse {
	return &model.DeploymentGroupStatusResponse{
		DeploymentGroup: model.DeploymentGroup{Name: "web", JobID: job,
			HostSelectors: []model.HostSelector{{Label: "role", Operator: model.OpEquals, Operand: []string{"web"}}}},
		Status: status, HostStatuses: hosts,
	}
}

func TestRolloutFollower(t *testing.T) {
	failedBack := func(rollingBack, rolledBack bool) *model.DeploymentGroupStatusResponse {
		st := groupSt(v2, model.GroupFailed, hostSt("h1", v2, model.StateRunning), hostSt("h2", v1, model.StateRunning))
		st.Error, st.RollingBack, st.RolledBack = "h2: boom", rollingBack, rolledBack
		if rolledBack {
			st.RollbackErrors = []string{"h1: gone"}
		}
		return st
	}
	cases := []struct {
		name  string
		steps []*model.DeploymentGroupStatusResponse
		lines string
		end   *rolloutEnd // after the last step; nil while the wait goes on
	}{
		{
			name: "hosts reported once each, as they reach RUNNING with the new job",
			steps: []*model.DeploymentGroupStatusResponse{
				groupSt(v2, model.GroupRollingOut, hostSt("h1", v1, model.StateRunning), hostSt("h2", v1, model.StateRunning)),
				groupSt(v2, model.GroupRollingOut, hostSt("h1", v2, model.StateStarting), hostSt("h2", v1, model.StateRunning)),
				groupSt(v2, model.GroupRollingOut, hostSt("h1", v2, model.StateRunning), hostSt("h2", "", "")),
				groupSt(v2, model.GroupRollingOut, hostSt("h1", v2, model.StateRunning), hostSt("h2", v2, model.StateRunning)),
				groupSt(v2, model.GroupDone, hostSt("h1", v2, model.StateRunning), hostSt("h2", v2, model.StateRunning)),
			},
			lines: "h1 -> RUNNING (1/2)|h2 -> RUNNING (2/2)",
			end:   &rolloutEnd{status: outcomeDone},
		},
		{
			name:  "still rolling out",
			steps: []*model.DeploymentGroupStatusResponse{groupSt(v2, model.GroupRollingOut, hostSt("h1", v2, model.StateRunning))},
			lines: "h1 -> RUNNING (1/1)",
		},
		{
			name:  "an empty group is done at once",
			steps: []*model.DeploymentGroupStatusResponse{groupSt(v2, model.GroupDone)},
			end:   &rolloutEnd{status: outcomeDone},
		},
		{
			name:  "another rolling update took over",
			steps: []*model.DeploymentGroupStatusResponse{groupSt(v1, model.GroupRollingOut, hostSt("h1", v1, model.StateRunning))},
			end:   &rolloutEnd{status: outcomeFailed, err: "Deployment-group job id changed during rolling-update"},
		},
		{
			name:  "paused after the canary",
			steps: []*model.DeploymentGroupStatusResponse{groupSt(v2, model.GroupPaused, hostSt("h1", v2, model.StateRunning), hostSt("h2", v1, model.StateRunning))},
			lines: "h1 -> RUNNING (1/2)",
			end:   &rolloutEnd{status: outcomePaused},
		},
		{
			name:  "failed without rollback",
			steps: []*model.DeploymentGroupStatusResponse{failedBack(false, false)},
			lines: "h1 -> RUNNING (1/2)",
			end:   &rolloutEnd{status: outcomeFailed, err: "h2: boom"},
		},
		{
			name:  "rolling back goes on until rolled back",
			steps: []*model.DeploymentGroupStatusResponse{failedBack(true, false), failedBack(true, false)},
			lines: "h1 -> RUNNING (1/2)|Rolling back…",
		},
		{
			name:  "rolled back",
			steps: []*model.DeploymentGroupStatusResponse{failedBack(true, false), failedBack(false, true)},
			lines: "h1 -> RUNNING (1/2)|Rolling back…",
			end:   &rolloutEnd{status: outcomeFailed, err: "h2: boom", rolledBack: true, rollbackErrors: []string{"h1: gone"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newRolloutFollower(v2)
			var lines []string
			var end *rolloutEnd
			for i, st := range tc.steps {
				if end != nil {
					t.Fatalf("ended at step %d of %d: %+v", i, len(tc.steps), end)
				}
				l, e := f.step(st)
				lines, end = append(lines, l...), e
			}
			if got := strings.Join(lines, "|"); got != tc.lines {
				t.Errorf("lines %q, want %q", got, tc.lines)
			}
			if fmt.Sprintf("%+v", end) != fmt.Sprintf("%+v", tc.end) {
				t.Errorf("end %+v, want %+v", end, tc.end)
			}
		})
	}
}

func TestWriteGroupStatus(t *testing.T) {
	st := groupSt(v2, model.GroupRollingOut, hostSt("web1.example.com", v2, model.StateRunning),
		hostSt("web2.example.com", v1, model.StateStopped), hostSt("web10.example.com", "", ""))
	st.TaskIndex, st.TaskCount = 4, 9
	var b bytes.Buffer
	if err := writeGroupStatus(&b, st, false); err != nil {
		t.Fatal(err)
	}
	want := "Name: web\nJob Id: svc:2:2222222\nStatus: ROLLING_OUT\nHost selectors:\n  role = web\nProgress: 4/9 tasks\n\n" +
		"HOST     UP-TO-DATE    JOB              STATE\n" +
		"web1     X             svc:2:2222222    RUNNING\n" +
		"web2                   svc:1:1111111    STOPPED\n" +
		"web10                  -                -\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}

	st = groupSt("", model.GroupFailed)
	st.Error, st.RolledBack, st.RollbackErrors = "Stopped by user", true, []string{"h1: x"}
	b.Reset()
	if err := writeGroupStatus(&b, st, true); err != nil {
		t.Fatal(err)
	}
	want = "Name: web\nJob Id: null\nStatus: FAILED\nHost selectors:\n  role = web\nError: Stopped by user\nRolled back: yes\n" +
		"Rollback problems:\n  h1: x\n\nHOST    UP-TO-DATE    JOB    STATE\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}

func TestWriteGroup(t *testing.T) {
	g := model.DeploymentGroup{Name: "web", HostSelectors: []model.HostSelector{
		{Label: "role", Operator: model.OpEquals, Operand: []string{"web"}},
		{Label: "dc", Operator: model.OpNotIn, Operand: []string{"ams", "lon"}},
	}}
	var b bytes.Buffer
	writeGroup(&b, g)
	if want := "Name: web\nHost selectors:\n  role = web\n  dc notin [ams, lon]\nJob: null\n"; b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	g.JobID, g.RollingUpdateReason = v1, model.ReasonHostsChanged
	o := model.ResolveRolloutOptions(&model.RolloutOptions{Token: strp("s3cret"), Canary: intp(2), AutoRollback: boolp(true)})
	g.RolloutOptions = &o
	b.Reset()
	writeGroup(&b, g)
	want := "Name: web\nHost selectors:\n  role = web\n  dc notin [ams, lon]\nJob: " + string(v1) + "\nRolling update reason: HOSTS_CHANGED\n" +
		"Rollout options:\n  Migrate: false\n  Overlap: false\n  Parallelism: 1\n  Timeout: 300\n  Token: s3cret\n  Ignore failures: false\n" +
		"  Auto rollback: true\n  Canary: 2\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWatchSeparator(t *testing.T) {
	at := time.Date(2024, 9, 12, 8, 5, 3, 0, time.FixedZone("CEST", 7200))
	if got, want := watchSeparator(at), strings.Repeat("-", 54)+" [2024-09-12 06:05:03 UTC]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The group's stream is reopened when it breaks; a status the master repeats on the new
// stream is not handed on again, and the removal line ends the watch.
func TestWatchGroupReconnectsAndEndsOnRemoval(t *testing.T) {
	line := func(st any) string { b, _ := json.Marshal(st); return string(b) + "\n" }
	a := groupSt(v1, model.GroupRollingOut)
	b := groupSt(v1, model.GroupRollingOut, hostSt("h1", v1, model.StateRunning))
	c := groupSt(v1, model.GroupDone, hostSt("h1", v1, model.StateRunning))
	var conns atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/deployment-group/web/watch" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"status":"DEPLOYMENT_GROUP_NOT_FOUND"}`)
			return
		}
		f := w.(http.Flusher)
		switch conns.Add(1) {
		case 1: // two statuses, then the master goes away
			fmt.Fprint(w, line(a)+line(b))
		default: // the current status again, a heartbeat, a change, then the group is removed
			fmt.Fprint(w, line(b)+"\n"+line(c)+line(model.ErrorResponse{Status: model.StatusDeploymentGroupNotFound, Message: "removed"}))
		}
		f.Flush()
	}))
	defer srv.Close()
	cl := testClient(srv.URL)
	cl.retryDelay = func(int) time.Duration { return 10 * time.Millisecond }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	err := cl.watchGroup(ctx, "web", func(st *model.DeploymentGroupStatusResponse) error {
		got = append(got, fmt.Sprintf("%s/%d", st.Status, len(st.HostStatuses)))
		return nil
	})
	if !isStatus(err, model.StatusDeploymentGroupNotFound) || err.Error() != "Unknown deployment group: web" {
		t.Fatalf("watch ended with %v, want the group's removal", err)
	}
	if strings.Join(got, ",") != "ROLLING_OUT/0,ROLLING_OUT/1,DONE/1" {
		t.Fatalf("statuses %v", got)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
	err = cl.watchGroup(ctx, "nope", func(*model.DeploymentGroupStatusResponse) error { return nil })
	if !isStatus(err, model.StatusDeploymentGroupNotFound) {
		t.Fatalf("unknown group: %v", err)
	}
	stop := errors.New("stop")
	err = cl.watchGroup(ctx, "web", func(*model.DeploymentGroupStatusResponse) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("callback error: got %v", err)
	}
}
