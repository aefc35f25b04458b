package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
)

// groupFleet is a master and real helios-agent processes on the local Docker engine, each
// with its own --name, --labels, --state-dir and --metrics port.
type groupFleet struct {
	t      *testing.T
	bins   harness.Binaries
	master string
	etcd   string
	run    string
	agents map[string]*harness.Process
	dirs   map[string]string
}

func newGroupFleet(t *testing.T) *groupFleet {
	needDocker(t)
	needBusybox(t)
	bins := harness.BuildBinaries(t)
	ports := freeMasterPorts(t)
	_, master := startMaster(t, bins, filepath.Join(t.TempDir(), "etcd"), ports)
	return &groupFleet{t: t, bins: bins, master: master, etcd: fmt.Sprintf("http://127.0.0.1:%d", ports.client),
		run: harness.RunID(t), agents: map[string]*harness.Process{}, dirs: map[string]string{}}
}

// host is the agent name of short name n in this run.
func (g *groupFleet) host(n string) string { return n + "-" + g.run }

// agent starts (or restarts, keeping its state dir) the agent n with labels.
func (g *groupFleet) agent(n string, labels ...string) {
	g.t.Helper()
	host := g.host(n)
	if p := g.agents[n]; p != nil {
		p.Kill()
	} else {
		removeHostContainers(g.t, host)
		g.dirs[n] = g.t.TempDir()
	}
	args := []string{"--name", host, "--etcd", g.etcd, "--state-dir", g.dirs[n],
		"--metrics", fmt.Sprintf("127.0.0.1:%d", harness.FreePort(g.t)),
		"--lease-ttl", "2s", "--resync-interval", "2s", "--health-check-interval", "200ms"}
	for _, l := range labels {
		args = append(args, "--labels", l)
	}
	g.agents[n] = harness.Start(g.t, g.bins.Path("helios-agent"), args...)
	waitHostStatus(g.t, g.bins, g.master, host, "Up")
}

func (g *groupFleet) helios(args ...string) string {
	g.t.Helper()
	return helios(g.t, g.bins, g.master, args...)
}

func (g *groupFleet) heliosCode(args ...string) (string, int) {
	g.t.Helper()
	return heliosCode(g.t, g.bins, g.master, args...)
}

// create makes a busybox job that runs until stopped, with extra create flags.
func (g *groupFleet) create(job string, flags ...string) {
	g.t.Helper()
	args := append([]string{"create", "-q", job, "busybox:latest"}, flags...)
	g.helios(append(args, "--", "/bin/sh", "-c", "while true; do sleep 1; done")...)
}

// jobsOn is what `helios status` shows deployed on each host: host -> "name:version" list.
func (g *groupFleet) jobsOn(hosts ...string) map[string][]string {
	g.t.Helper()
	out := map[string][]string{}
	for _, n := range hosts {
		var st map[string]struct {
			Jobs map[string]json.RawMessage `json:"jobs"`
		}
		if err := json.Unmarshal([]byte(g.helios("hosts", g.host(n), "--json")), &st); err != nil {
			g.t.Fatal(err)
		}
		for id := range st[g.host(n)].Jobs {
			parts := strings.Split(id, ":")
			out[n] = append(out[n], parts[0]+":"+parts[1])
		}
		slices.Sort(out[n])
	}
	return out
}

// wantJobs fails unless each host runs exactly job (as `helios status` sees deployments).
func (g *groupFleet) wantJobs(job string, hosts ...string) {
	g.t.Helper()
	got := g.jobsOn(hosts...)
	for _, n := range hosts {
		if !slices.Equal(got[n], []string{job}) {
			g.t.Errorf("%s has %v deployed, want only %s", n, got[n], job)
		}
	}
}

// TestDeploymentGroupsOnRealAgents drives deployment groups through the CLI over four real
// helios-agent processes on the local Docker engine: rollouts at parallelism 1 and 2 with and
// without overlap, --json, a wrong token, a failing job with auto-rollback, ignoreFailures,
// stop, canary and promote, migrate, and hosts joining and leaving by their labels.
func TestDeploymentGroupsOnRealAgents(t *testing.T) {
	g := newGroupFleet(t)
	web := []string{"web1", "web2", "web3"}
	for _, n := range web {
		g.agent(n, "role=web", "name="+n)
	}
	g.helios("create-deployment-group", "web", "role=web")
	for _, j := range []string{"svc:1", "svc:2", "svc:3", "svc:4"} {
		g.create(j)
	}

	// Parallelism 1, no overlap: each host in natural order, RUNNING one after the other.
	out := g.helios("rolling-update", "svc:1", "web")
	for i, n := range web {
		if want := fmt.Sprintf("%s -> RUNNING (%d/3)", g.host(n), i+1); !strings.Contains(out, want) {
			t.Fatalf("rolling-update svc:1 output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "\nDone.\n") || !strings.Contains(out, "Duration: ") {
		t.Fatalf("rolling-update svc:1 did not end with Done. and a duration:\n%s", out)
	}
	g.wantJobs("svc:1", web...)
	before := containersOf(t, g.host("web1"), "svc:1")

	// Parallelism 2, --json.
	var res struct {
		Status      string  `json:"status"`
		Parallelism int     `json:"parallelism"`
		Duration    float64 `json:"duration"`
	}
	if err := json.Unmarshal([]byte(g.helios("rolling-update", "svc:2", "web", "--par", "2", "--json")), &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "DONE" || res.Parallelism != 2 || res.Duration <= 0 {
		t.Fatalf("rolling-update --json: %+v", res)
	}
	g.wantJobs("svc:2", web...)
	if ids := containersOf(t, g.host("web1"), "svc:1"); len(ids) != 0 || len(before) != 1 {
		t.Fatalf("svc:1's container on web1 was %v, still %v after the update", before, ids)
	}

	// Overlap at parallelism 1 and 2.
	g.helios("rolling-update", "svc:3", "web", "--overlap")
	g.wantJobs("svc:3", web...)
	g.helios("rolling-update", "svc:4", "web", "--overlap", "-p", "2")
	g.wantJobs("svc:4", web...)
	status := g.helios("deployment-group-status", "web")
	if !strings.Contains(status, "Status: DONE") || strings.Count(status, "RUNNING") != 3 {
		t.Fatalf("deployment-group-status after svc:4:\n%s", status)
	}

	// A wrong token fails the group, naming the host and the original's word.
	g.create("tok:1", "--token", "s3cret")
	out, code := g.heliosCode("rolling-update", "tok:1", "web", "--token", "wrong")
	if code != 1 || !strings.Contains(out, "Failed: "+g.host("web1")+": TOKEN_VERIFICATION_ERROR") {
		t.Fatalf("wrong token: exit %d\n%s", code, out)
	}
	g.wantJobs("svc:4", web...)

	// A job that never passes its health check: the step times out on the first host, the
	// rollout fails naming it, and auto-rollback puts it back on svc:4.
	g.create("bad:1", "--exec-check", "false")
	out, code = g.heliosCode("rolling-update", "bad:1", "web", "-t", "3", "--auto-rollback")
	if code != 1 || !strings.Contains(out, "Failed: "+g.host("web1")+": TIMED_OUT_WAITING_FOR_JOB_TO_REACH_RUNNING") ||
		!strings.Contains(out, "Rolled back.") {
		t.Fatalf("failing job with --auto-rollback: exit %d\n%s", code, out)
	}
	g.wantJobs("svc:4", web...)
	if st := g.helios("deployment-group-status", "web"); !strings.Contains(st, "Rolled back: yes") {
		t.Fatalf("status after the rollback:\n%s", st)
	}

	// ignoreFailures: every host gets the failing job, and the rollout is DONE.
	out, code = g.heliosCode("rolling-update", "bad:1", "web", "-t", "2", "-p", "3", "--ignore-failures")
	if code != 0 || !strings.Contains(out, "Done.") {
		t.Fatalf("--ignore-failures: exit %d\n%s", code, out)
	}
	g.wantJobs("bad:1", web...)

	// Stop: a rollout waiting on a health check that never passes is stopped by the user.
	g.helios("rolling-update", "svc:4", "web", "-p", "3")
	g.helios("rolling-update", "bad:1", "web", "--async")
	harness.Eventually(t, 60*time.Second, func() error {
		if st := g.helios("deployment-group-status", "web"); !strings.Contains(st, "HEALTHCHECKING") {
			return errorf("no host HEALTHCHECKING bad:1 yet:\n%s", st)
		}
		return nil
	})
	g.helios("stop-deployment-group", "web")
	if st := g.helios("deployment-group-status", "web"); !strings.Contains(st, "Status: FAILED") || !strings.Contains(st, "Error: Stopped by user") {
		t.Fatalf("status after stop:\n%s", st)
	}

	// Canary: the first host only, then promote.
	g.create("svc:5")
	out = g.helios("rolling-update", "svc:5", "web", "--canary", "1")
	if !strings.Contains(out, "Paused after the canary hosts") {
		t.Fatalf("canary rollout:\n%s", out)
	}
	if got := g.jobsOn(web...); !slices.Equal(got["web1"], []string{"svc:5"}) || slices.Contains(got["web2"], "svc:5") {
		t.Fatalf("paused after one canary host, deployments are %v", got)
	}
	g.helios("promote-deployment-group", "web")
	harness.Eventually(t, 60*time.Second, func() error {
		if st := g.helios("deployment-group-status", "web"); !strings.Contains(st, "Status: DONE") {
			return errorf("not DONE after promote:\n%s", st)
		}
		return nil
	})
	g.wantJobs("svc:5", web...)

	// Migrate: a job deployed by hand on web1 is taken over without restarting it.
	g.create("mig:1")
	g.helios("deploy", "mig:1", g.host("web1"))
	harness.Eventually(t, 60*time.Second, func() error {
		if len(containersOf(t, g.host("web1"), "mig:1")) != 1 {
			return errorf("mig:1 not started on web1")
		}
		return nil
	})
	manual := containersOf(t, g.host("web1"), "mig:1")[0]
	out, code = g.heliosCode("rolling-update", "mig:1", "web")
	if code != 1 || !strings.Contains(out, g.host("web1")+": JOB_ALREADY_DEPLOYED") {
		t.Fatalf("without --migrate: exit %d\n%s", code, out)
	}
	g.helios("rolling-update", "mig:1", "web", "--migrate", "-p", "3")
	g.wantJobs("mig:1", web...)
	if ids := containersOf(t, g.host("web1"), "mig:1"); !slices.Equal(ids, []string{manual}) {
		t.Fatalf("migrate replaced web1's container %s with %v", manual, ids)
	}

	// A fourth host started later with the group's labels gets its job; when its labels stop
	// matching, the job is undeployed from it (and only from it).
	g.agent("web4", "role=web", "name=web4")
	harness.Eventually(t, 60*time.Second, func() error {
		if got := g.jobsOn("web4"); !slices.Equal(got["web4"], []string{"mig:1"}) || len(containersOf(t, g.host("web4"), "mig:1")) != 1 {
			return errorf("web4 has %v", got)
		}
		return nil
	})
	g.agent("web4", "role=retired")
	harness.Eventually(t, 60*time.Second, func() error {
		if got := g.jobsOn("web4"); len(got["web4"]) != 0 || len(containersOf(t, g.host("web4"), "mig:1")) != 0 {
			return errorf("web4 still has %v", got)
		}
		return nil
	})
	g.wantJobs("mig:1", web...)
	if insp := g.helios("inspect-deployment-group", "web"); !strings.Contains(insp, "Rolling update reason: HOSTS_CHANGED") {
		t.Fatalf("inspect after web4 left:\n%s", insp)
	}
}
