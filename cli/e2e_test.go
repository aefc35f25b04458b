package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/cli"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/test/harness"
)

// result is one run of the CLI.
type result struct {
	code     int
	out, err string
}

// h runs helios commands against one master, as a user with a fixed environment.
type h struct {
	t     *testing.T
	m     *harness.Master
	env   map[string]string
	stdin string
}

func newH(t *testing.T) *h {
	t.Helper()
	m := harness.StartMaster(t)
	return &h{t: t, m: m, env: map[string]string{"TZ": "UTC", "USER": "tester", "HOME": t.TempDir()}}
}

// run runs helios with -z pointing at the master (first) and returns what it printed.
func (x *h) run(args ...string) result {
	x.t.Helper()
	return x.runRaw(append([]string{"-z", x.m.URL, "--retry-timeout", "1"}, args...)...)
}

func (x *h) runRaw(args ...string) result {
	x.t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := cli.Run(ctx, args, strings.NewReader(x.stdin), &out, &errb, func(k string) string { return x.env[k] })
	return result{code: code, out: out.String(), err: errb.String()}
}

// ok runs and requires success.
func (x *h) ok(args ...string) result {
	x.t.Helper()
	r := x.run(args...)
	if r.code != 0 {
		x.t.Fatalf("helios %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r
}

// fail runs and requires exit 1.
func (x *h) fail(args ...string) result {
	x.t.Helper()
	r := x.run(args...)
	if r.code != 1 {
		x.t.Fatalf("helios %s: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// decode parses JSON output into v.
func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output is not JSON (%v):\n%s", err, s)
	}
}

// norm collapses runs of spaces, so goldens do not depend on column widths.
func norm(s string) string {
	return strings.TrimSpace(regexp.MustCompile(`[ \t]+`).ReplaceAllString(strings.TrimSpace(s), " "))
}

func wantText(t *testing.T, got, want string) {
	t.Helper()
	gl, wl := strings.Split(norm(got), "\n"), strings.Split(strings.TrimSpace(want), "\n")
	for i := range gl {
		gl[i] = strings.TrimSpace(gl[i])
	}
	for i := range wl {
		wl[i] = norm(wl[i])
	}
	if strings.Join(gl, "\n") != strings.Join(wl, "\n") {
		t.Fatalf("output:\n%s\nwant (spacing aside):\n%s", got, want)
	}
}

func TestManualWalkThrough(t *testing.T) {
	x := newH(t)
	r := x.ok("create", "testjob:1", "ubuntu:12.04", "--env", "FOO=bar", "--", "/bin/sh", "-c", "while true; do echo $FOO; date; sleep 60; done")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "Creating job: {") || lines[1] != "Done." {
		t.Fatalf("create output:\n%s", r.out)
	}
	id := model.JobID(lines[2])
	if !id.IsFull() || id.Name() != "testjob" || id.Version() != "1" {
		t.Fatalf("last line %q is not the job id", id)
	}
	var printed model.Job
	decode(t, strings.TrimPrefix(lines[0], "Creating job: "), &printed)
	if printed.ID != id || printed.Env["FOO"] != "bar" || len(printed.Command) != 3 || printed.Command[2] != "while true; do echo $FOO; date; sleep 60; done" {
		t.Fatalf("printed job %+v", printed)
	}

	x.ok("register", "192.168.33.10", "agent-id-1")
	r = x.ok("deploy", "testjob:1", "192.168.33.10")
	wantText(t, r.out, "Deploying "+string(id)+"|START on [192.168.33.10]\n192.168.33.10: done")

	r = x.ok("jobs", "testjob:1")
	wantText(t, r.out, `JOB ID NAME VERSION HOSTS COMMAND ENVIRONMENT
`+id.Short()+` testjob 1 1 /bin/sh -c "while true; do echo $FOO; date; sleep 60; done" FOO=bar`)

	ctx := context.Background()
	for _, st := range []struct {
		state model.State
		cid   string
	}{{model.StateCreating, ""}, {model.StateStarting, "60671498ae98aaaa"}, {model.StateRunning, "60671498ae98aaaa"}} {
		if err := x.m.Store.SetTaskStatus(ctx, "192.168.33.10", id, model.TaskStatus{
			Goal: model.GoalStart, State: st.state, ContainerID: st.cid, Throttled: model.ThrottleNo,
			Ports: map[string]model.PortMapping{},
		}, true); err != nil {
			t.Fatalf("set task status: %v", err)
		}
	}
	r = x.ok("status")
	wantText(t, r.out, `JOB ID HOST GOAL STATE CONTAINER ID PORTS
`+id.Short()+` 192.168.33.10 START RUNNING 6067149`)

	r = x.ok("history", "testjob:1")
	rows := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(rows) != 4 || norm(rows[0]) != "HOST TIMESTAMP STATE THROTTLED CONTAINERID" {
		t.Fatalf("history:\n%s", r.out)
	}
	rowRE := regexp.MustCompile(`^192\.168\.33\.10 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (\S+) NO (\S+)$`)
	for i, want := range [][2]string{{"CREATING", "<none>"}, {"STARTING", "60671498ae98"}, {"RUNNING", "60671498ae98"}} {
		m := rowRE.FindStringSubmatch(norm(rows[i+1]))
		if m == nil || m[1] != want[0] || m[2] != want[1] {
			t.Fatalf("history row %d %q, want state %s container %s", i+1, rows[i+1], want[0], want[1])
		}
	}

	r = x.ok("undeploy", "testjob:1", "192.168.33.10")
	wantText(t, r.out, "Undeploying "+string(id)+" from [192.168.33.10]\n192.168.33.10: done")
	r = x.ok("jobs", "testjob", "-y")
	wantText(t, r.out, "JOB ID NAME VERSION HOSTS COMMAND ENVIRONMENT")

	// -y lists only the jobs deployed somewhere: testjob:2 is, testjob:1 no longer is.
	id2 := model.JobID(lastLine(x.ok("create", "testjob:2", "ubuntu:12.04").out))
	x.ok("deploy", "testjob:2", "192.168.33.10")
	r = x.ok("jobs", "testjob", "-y")
	wantText(t, r.out, "JOB ID NAME VERSION HOSTS COMMAND ENVIRONMENT\n"+id2.Short()+" testjob 2 1")
	r = x.ok("jobs", "testjob")
	if !strings.Contains(r.out, id.Short()) || !strings.Contains(r.out, id2.Short()) {
		t.Fatalf("jobs without -y should list both:\n%s", r.out)
	}
}
