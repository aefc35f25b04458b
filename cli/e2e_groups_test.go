package cli_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/test/harness"
)

// hollowAgent starts an agent named name with labels on a fake runtime (containers come
// up at once) and waits until the master sees it up with its labels.
func (x *h) hollowAgent(name string, labels map[string]string) {
	x.t.Helper()
	st := x.m.Store
	harness.StartHollow(x.t, harness.Hollow{Name: name, Labels: labels, Store: st})
	x.eventually(30*time.Second, name+" up with its labels", func() bool {
		hs, err := st.HostStatus(context.Background(), name)
		return err == nil && hs.Status == model.HostUp && len(hs.Labels) == len(labels)
	})
}

// eventually polls cond until it holds, failing the test after within.
func (x *h) eventually(within time.Duration, what string, cond func() bool) {
	x.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			x.t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// members waits until the group's status lists n member hosts (the leader computes
// membership from labels on its own schedule).
func (x *h) members(group string, n int) {
	x.t.Helper()
	x.eventually(30*time.Second, group+" has "+string(rune('0'+n))+" members", func() bool {
		var st model.DeploymentGroupStatusResponse
		r := x.run("--json", "deployment-group-status", group)
		if r.code != 0 {
			return false
		}
		decode(x.t, r.out, &st)
		return len(st.HostStatuses) == n
	})
}

func mustMatch(t *testing.T, what, s, re string) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(s) {
		t.Fatalf("%s does not match %q:\n%s", what, re, s)
	}
}

func webFleet(t *testing.T) *h {
	x := newH(t)
	x.hollowAgent("web1", map[string]string{"role": "web"})
	x.hollowAgent("web2", map[string]string{"role": "web"})
	x.hollowAgent("db1", map[string]string{"role": "db"})
	return x
}

func TestDeploymentGroupLifecycle(t *testing.T) {
	x := webFleet(t)
	v1 := model.JobID(strings.TrimSpace(x.ok("create", "-q", "svc:1", "busybox").out))
	v2 := model.JobID(strings.TrimSpace(x.ok("create", "-q", "svc:2", "busybox").out))

	r := x.ok("create-deployment-group", "web", "role=web")
	wantText(t, r.out, `Creating deployment group: {"hostSelectors":[{"label":"role","operand":["web"],"operator":"EQUALS"}],"name":"web"}
{"status":"CREATED"}`)
	r = x.ok("create-deployment-group", "-q", "web", "role=web")
	wantText(t, r.out, `{"status":"NOT_MODIFIED"}`)
	r = x.fail("create-deployment-group", "web", "role=db")
	mustContain(t, "stderr", r.err, "Failed: CreateDeploymentGroupResponse{status=CONFLICT}")
	r = x.fail("--json", "create-deployment-group", "web", "role=db")
	wantText(t, r.out, `{"status":"CONFLICT"}`)
	r = x.fail("create-deployment-group", "other", "role")
	mustContain(t, "stderr", r.err, "Bad host selector expression: 'role'")
	x.ok("create-deployment-group", "other", "tier in (a, b)", "dc!=ams")

	wantText(t, x.ok("list-deployment-groups").out, "other\nweb")
	var names []string
	decode(t, x.ok("--json", "list-deployment-groups").out, &names)
	if strings.Join(names, ",") != "other,web" {
		t.Fatalf("list --json: %v", names)
	}
	wantText(t, x.ok("inspect-deployment-group", "other").out, "Name: other\nHost selectors:\n  tier in [a, b]\n  dc != ams\nJob: null")

	x.members("web", 2)
	r = x.ok("rolling-update", "svc:1", "web")
	mustMatch(t, "rolling-update v1", r.out, `^Rolling update started: web -> `+regexp.QuoteMeta(v1.Short())+
		` \(parallelism=1, timeout=300, overlap=false, token=, ignoreFailures=false, migrate=false\)\n\n`+
		`web1 -> RUNNING \(1/2\)\nweb2 -> RUNNING \(2/2\)\n\nDone\.\nDuration: \d+\.\d\d s\n$`)

	r = x.ok("--json", "rolling-update", "svc:2", "web", "--parallelism", "2")
	var res map[string]any
	decode(t, r.out, &res)
	if res["status"] != "DONE" || res["parallelism"] != 2.0 || res["timeout"] != 300.0 || res["token"] != "" || res["migrate"] != false {
		t.Fatalf("rolling-update --json: %s", r.out)
	}
	if _, ok := res["duration"].(float64); !ok {
		t.Fatalf("rolling-update --json has no duration: %s", r.out)
	}

	r = x.ok("deployment-group-status", "web")
	wantText(t, r.out, "Name: web\nJob Id: "+v2.Short()+"\nStatus: DONE\nHost selectors:\n  role = web\n\n"+
		"HOST UP-TO-DATE JOB STATE\nweb1 X "+v2.Short()+" RUNNING\nweb2 X "+v2.Short()+" RUNNING")
	wantText(t, x.ok("inspect-deployment-group", "web").out, "Name: web\nHost selectors:\n  role = web\nJob: "+string(v2)+
		"\nRolling update reason: MANUAL\nRollout options:\n  Migrate: false\n  Overlap: false\n  Parallelism: 2\n  Timeout: 300\n  Ignore failures: false")

	// A job with a token, rolled with the wrong one: the first host refuses.
	x.ok("create", "-q", "--token", "secret", "svc:3", "busybox")
	r = x.fail("rolling-update", "--token", "wrong", "svc:3", "web")
	mustMatch(t, "rolling-update with a wrong token", r.out, `\n\nFailed: web1: TOKEN_VERIFICATION_ERROR: [^\n]+\nDuration: `)
	r = x.ok("deployment-group-status", "web")
	mustContain(t, "status after the failure", r.out, "Status: FAILED\n", "Error: web1: TOKEN_VERIFICATION_ERROR")

	r = x.fail("rolling-update", "svc:1", "nope")
	mustContain(t, "stderr", r.err, "Failed: RollingUpdateResponse{status=DEPLOYMENT_GROUP_NOT_FOUND}")
	r = x.fail("rolling-update", "svc:9", "web")
	mustContain(t, "stderr", r.err, "Unknown job: svc:9")
	r = x.fail("rolling-update", "-p", "0", "svc:1", "web")
	mustContain(t, "stderr", r.err, "Parallelism must be greater than 0")

	r = x.ok("stop-deployment-group", "web")
	wantText(t, r.out, "Deployment-group web stopped")
	mustContain(t, "status after stop", x.ok("deployment-group-status", "web").out, "Status: FAILED\n", "Error: Stopped by user\n")
	r = x.fail("stop-deployment-group", "nope")
	mustContain(t, "stderr", r.err, "Deployment-group nope not found")

	wantText(t, x.ok("remove-deployment-group", "web").out, "Deployment-group web removed")
	r = x.fail("remove-deployment-group", "web")
	mustContain(t, "stderr", r.err, "Failed to remove deployment-group web, status: DEPLOYMENT_GROUP_NOT_FOUND")
	r = x.fail("inspect-deployment-group", "web")
	mustContain(t, "stderr", r.err, "Unknown deployment group: web")
	r = x.fail("deployment-group-status", "web")
	mustContain(t, "stderr", r.err, "Unknown deployment group: web")
	// Removing the group left its job where it was.
	mustContain(t, "jobs", x.ok("status", "--job", string(v2)).out, "web1", "web2")
}

func TestRollingUpdateCanaryPausesUntilPromoted(t *testing.T) {
	x := webFleet(t)
	x.ok("create", "-q", "svc:1", "busybox")
	x.ok("create-deployment-group", "web", "role=web")
	x.members("web", 2)

	r := x.ok("rolling-update", "--canary", "1", "svc:1", "web")
	mustMatch(t, "canary rolling-update", r.out, `canary=1\)\n\nweb1 -> RUNNING \(1/2\)\n\n`+
		`Paused after the canary hosts: run 'helios promote-deployment-group web' to go on\nDuration: `)
	r = x.ok("deployment-group-status", "web")
	mustContain(t, "paused status", r.out, "Status: PAUSED\n", "Progress: ")

	w := x.start("watch-deployment-group", "web")
	w.waitOut(t, `^Control-C to stop\nSTATUS {15}HOST {27}STATE\n-{54} \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\]\nName: web\n(?s:.*)Status: PAUSED\n`)
	wantText(t, x.ok("promote-deployment-group", "web").out, "Deployment-group web promoted")
	w.waitOut(t, `(?s)Status: PAUSED\n.*-{54} \[[^\]]+\]\nName: web\n.*Status: DONE\n`)
	w.running(t)
	w.cancel() // Ctrl-C
	if code := w.exit(t); code != 0 {
		t.Fatalf("watch-deployment-group exit %d after Ctrl-C\nstderr:\n%s", code, w.err.String())
	}
	r = x.fail("promote-deployment-group", "web")
	mustContain(t, "stderr", r.err, "Deployment-group web is not paused")

	// A watch ends when its group is removed.
	j := x.start("--json", "watch-deployment-group", "web")
	j.waitOut(t, `^\{"deploymentGroup":\{"name":"web"`)
	x.ok("remove-deployment-group", "web")
	if code := j.exit(t); code != 1 {
		t.Fatalf("watch of a removed group exit %d, want 1", code)
	}
	mustContain(t, "stdout", j.out.String(), `"status": "DEPLOYMENT_GROUP_NOT_FOUND"`, `"message": "Unknown deployment group: web"`)
}
