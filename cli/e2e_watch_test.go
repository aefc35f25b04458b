package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/cli"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/test/harness"
)

// syncBuffer is written by the CLI's goroutine while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// bg is a helios command running in the background.
type bg struct {
	out, err syncBuffer
	code     chan int
	cancel   context.CancelFunc
}

func (x *h) start(args ...string) *bg {
	x.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	x.t.Cleanup(cancel)
	b := &bg{code: make(chan int, 1), cancel: cancel}
	args = append([]string{"-z", x.m.URL, "--retry-timeout", "1"}, args...)
	go func() {
		b.code <- cli.Run(ctx, args, strings.NewReader(""), &b.out, &b.err, func(k string) string { return x.env[k] })
	}()
	return b
}

// waitOut waits until stdout matches re.
func (b *bg) waitOut(t *testing.T, re string) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(15 * time.Second)
	for !rx.MatchString(b.out.String()) {
		select {
		case code := <-b.code:
			t.Fatalf("command ended (exit %d) before printing %q\nstdout:\n%s\nstderr:\n%s", code, re, b.out.String(), b.err.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 15s\nstdout:\n%s\nstderr:\n%s", re, b.out.String(), b.err.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exit waits for the command's exit code.
func (b *bg) exit(t *testing.T) int {
	t.Helper()
	select {
	case code := <-b.code:
		return code
	case <-time.After(20 * time.Second):
		t.Fatalf("command still running\nstdout:\n%s\nstderr:\n%s", b.out.String(), b.err.String())
		return -1
	}
}

// running fails if the command ended.
func (b *bg) running(t *testing.T) {
	t.Helper()
	select {
	case code := <-b.code:
		t.Fatalf("command ended (exit %d)\nstdout:\n%s\nstderr:\n%s", code, b.out.String(), b.err.String())
	default:
	}
}

func (x *h) status(host string, id model.JobID, st model.TaskStatus) {
	x.t.Helper()
	if st.Throttled == "" {
		st.Throttled = model.ThrottleNo
	}
	if st.Goal == "" {
		st.Goal = model.GoalStart
	}
	if err := x.m.Store.SetTaskStatus(context.Background(), host, id, st, true); err != nil {
		x.t.Fatalf("set task status: %v", err)
	}
}

func TestWatchPrintsStateChangesAsTheyHappen(t *testing.T) {
	x := newH(t)
	id := model.JobID(strings.TrimSpace(x.ok("create", "-q", "web:1", "busybox").out))
	x.ok("register", "web1.example.com", "id-1")
	x.ok("register", "db1.example.com", "id-2")
	x.status("web1.example.com", id, model.TaskStatus{State: model.StateCreating})
	x.status("web1.example.com", id, model.TaskStatus{State: model.StateStarting, ContainerID: "60671498ae98aaaa"})
	x.status("db1.example.com", id, model.TaskStatus{State: model.StateCreating})

	w := x.start("watch", "web:1", "web1") // a prefix of the host
	row := `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  web1\.example\.com  `
	w.waitOut(t, row+`STARTING +NO +60671498ae98\n`)
	x.status("db1.example.com", id, model.TaskStatus{State: model.StateRunning})
	x.status("web1.example.com", id, model.TaskStatus{State: model.StateRunning, ContainerID: "60671498ae98aaaa"})
	w.waitOut(t, row+`RUNNING +NO +60671498ae98\n`)
	x.status("web1.example.com", id, model.TaskStatus{State: model.StatePullingImage, Throttled: model.ThrottleImagePullFailed})
	w.waitOut(t, row+`PULLING_IMAGE +IMAGE_PULL_FAILED +<none>\n`)
	w.running(t)
	w.cancel() // Ctrl-C
	if code := w.exit(t); code != 0 {
		t.Fatalf("watch ended with %d after Ctrl-C; stderr:\n%s", code, w.err.String())
	}
	lines := strings.Split(strings.TrimSpace(w.out.String()), "\n")
	if norm(lines[0]) != "TIMESTAMP HOST STATE THROTTLED CONTAINERID" || len(lines) != 4 {
		t.Fatalf("want a header and 3 events (not the older CREATING, not db1):\n%s", w.out.String())
	}

	// --json, all hosts, and --exact names.
	j := x.start("--json", "watch", "web:1")
	j.waitOut(t, `(?s)RUNNING.*\n.*PULLING_IMAGE`) // newest of each host, oldest first
	x.status("db1.example.com", id, model.TaskStatus{State: model.StateStopped})
	j.waitOut(t, `STOPPED`)
	e := x.start("watch", "web:1", "db1.example.com", "--exact")
	e.waitOut(t, `db1\.example\.com +STOPPED`)
	x.status("web1.example.com", id, model.TaskStatus{State: model.StateRunning})
	j.waitOut(t, `(?s)STOPPED.*\n.*RUNNING`)
	j.cancel()
	if code := j.exit(t); code != 0 {
		t.Fatalf("watch --json exit %d", code)
	}
	var hosts []string
	for _, l := range strings.Split(strings.TrimSpace(j.out.String()), "\n") {
		var ev model.TaskStatusEvent
		decode(t, l, &ev)
		hosts = append(hosts, ev.Host+" "+string(ev.Status.State))
	}
	want := "db1.example.com RUNNING,web1.example.com PULLING_IMAGE,db1.example.com STOPPED,web1.example.com RUNNING"
	if strings.Join(hosts, ",") != want {
		t.Fatalf("events %v, want %s", hosts, want)
	}
	e.cancel()
	e.exit(t)
	if strings.Contains(e.out.String(), "web1.example.com") {
		t.Fatalf("--exact db1.example.com printed web1.example.com's events:\n%s", e.out.String())
	}

	r := x.fail("watch", "nope")
	mustContain(t, "stderr", r.err, "Unknown job: nope")
	// A host that is not registered would never show an event: say so instead of waiting.
	r = x.fail("watch", "web:1", "web1", "--exact") // only a prefix
	mustContain(t, "stderr", r.err, "Unknown host: web1")
	r = x.fail("watch", "web:1", "web1.example.com", "nohost")
	mustContain(t, "stderr", r.err, "Unknown host: nohost")
	r = x.fail("--json", "watch", "web:1", "nohost", "--exact")
	mustContain(t, "stdout", r.out, `"status": "HOST_NOT_FOUND"`, "Unknown host: nohost")
}

func TestDeployWatchSucceedsWhenRunning(t *testing.T) {
	x := newH(t)
	id := model.JobID(strings.TrimSpace(x.ok("create", "-q", "web:1", "busybox").out))
	x.ok("register", "h1", "id-1")
	x.ok("register", "h2", "id-2")
	// An earlier deployment's RUNNING is history, not this deployment coming up.
	x.status("h1", id, model.TaskStatus{State: model.StateRunning})

	d := x.start("deploy", "--watch", "web:1", "h1", "h2")
	d.waitOut(t, `Waiting for .* to be RUNNING on \[h1, h2\]`)
	x.status("h1", id, model.TaskStatus{State: model.StateCreating})
	x.status("h2", id, model.TaskStatus{State: model.StateRunning})
	d.waitOut(t, `h2: RUNNING\n`)
	// h1 is only CREATING: the command must still be following it, as a later change of
	// h1's printed proves (waitOut fails if the command ended first).
	x.status("h1", id, model.TaskStatus{State: model.StateStarting})
	d.waitOut(t, `h1: STARTING\n`)
	d.running(t)
	x.status("h1", id, model.TaskStatus{State: model.StateRunning})
	if code := d.exit(t); code != 0 {
		t.Fatalf("deploy --watch exit %d\nstdout:\n%s\nstderr:\n%s", code, d.out.String(), d.err.String())
	}
	mustContain(t, "stdout", d.out.String(), "h1: done\nh2: done\n", "h1: CREATING\n", "h1: RUNNING\n")

	// --json: the hosts' results, then the outcome.
	x.ok("undeploy", "web:1", "h1", "h2")
	d = x.start("--json", "deploy", "--watch", "web:1", "h1")
	// The command reads h1's history as its baseline before it deploys: a RUNNING written
	// before the deployment exists could be taken for the past.
	waitDeployed(t, x, "h1", id)
	x.status("h1", id, model.TaskStatus{State: model.StateRunning})
	if code := d.exit(t); code != 0 {
		t.Fatalf("deploy --watch --json exit %d\nstdout:\n%s\nstderr:\n%s", code, d.out.String(), d.err.String())
	}
	dec := json.NewDecoder(strings.NewReader(d.out.String()))
	var results []map[string]any
	var outcome struct {
		Status string                      `json:"status"`
		Hosts  map[string]model.TaskStatus `json:"hosts"`
	}
	if err := dec.Decode(&results); err != nil || len(results) != 1 || results[0]["status"] != "OK" {
		t.Fatalf("results %v %v:\n%s", results, err, d.out.String())
	}
	if err := dec.Decode(&outcome); err != nil || outcome.Status != "DONE" || outcome.Hosts["h1"].State != model.StateRunning {
		t.Fatalf("outcome %+v %v:\n%s", outcome, err, d.out.String())
	}
}

func TestDeployWatchFails(t *testing.T) {
	cases := []struct {
		name   string
		status model.TaskStatus
		want   string
	}{
		{"failed", model.TaskStatus{State: model.StateFailed, ContainerError: "exit status 1"}, "h1: FAILED (exit status 1)"},
		{"image missing", model.TaskStatus{State: model.StateFailed, Throttled: model.ThrottleImageMissing, ContainerError: "no such image"}, "h1: FAILED (IMAGE_MISSING: no such image)"},
		{"pull failed", model.TaskStatus{State: model.StatePullingImage, Throttled: model.ThrottleImagePullFailed}, "h1: FAILED (IMAGE_PULL_FAILED)"},
	}
	x := newH(t)
	x.ok("register", "h1", "id-1")
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x.t = t
			id := model.JobID(strings.TrimSpace(x.ok("create", "-q", "job"+string(rune('a'+i))+":1", "busybox").out))
			d := x.start("deploy", "--watch", string(id), "h1")
			d.waitOut(t, `Waiting for`)
			x.status("h1", id, model.TaskStatus{State: model.StatePullingImage})
			x.status("h1", id, tc.status)
			if code := d.exit(t); code != 1 {
				t.Fatalf("exit %d, want 1\nstdout:\n%s", code, d.out.String())
			}
			mustContain(t, "stdout", d.out.String(), tc.want+"\n")
		})
	}
}

func TestDeployWatchTimesOut(t *testing.T) {
	x := newH(t)
	id := model.JobID(strings.TrimSpace(x.ok("create", "-q", "web:1", "busybox").out))
	x.ok("register", "h1", "id-1")
	x.ok("register", "h2", "id-2")
	d := x.start("deploy", "--watch", "--watch-timeout", "1s", "web:1", "h1", "h2")
	d.waitOut(t, `Waiting for`)
	x.status("h1", id, model.TaskStatus{State: model.StateHealthchecking})
	if code := d.exit(t); code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s", code, d.out.String())
	}
	mustContain(t, "stdout", d.out.String(), "timed out after 1s; not RUNNING: h1 (HEALTHCHECKING), h2 (no status yet)")

	r := x.fail("deploy", "--watch", "--no-start", "web:1", "h1")
	mustContain(t, "stderr", r.err, "--no-start")
}

// waitDeployed waits until id is deployed on host, e.g. by a command running in the background.
func waitDeployed(t *testing.T, x *h, host string, id model.JobID) {
	t.Helper()
	harness.Eventually(t, 15*time.Second, func() error {
		_, err := x.m.Store.GetDeployment(context.Background(), host, id)
		return err
	})
}
