package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
)

// TestManualWalkthroughOnSolo types the manual's walk-through as printed (image name aside)
// against helios-solo: create, deploy, jobs, status, history, look inside the container,
// undeploy.
func TestManualWalkthroughOnSolo(t *testing.T) {
	needDocker(t)
	needBusybox(t)
	bins := harness.BuildBinaries(t)
	host := "solo-" + harness.RunID(t)
	removeHostContainers(t, host)
	args, master := soloArgs(t, host)
	harness.Start(t, bins.Path("helios-solo"), args...)
	harness.WaitHTTP(t, master+"/version", 60*time.Second)
	walkthrough(t, bins, master, host)
}

// walkthrough is the manual's walk-through against master, whose agent host runs the job.
func walkthrough(t *testing.T, bins harness.Binaries, master, host string) {
	t.Helper()
	harness.Eventually(t, 30*time.Second, func() error {
		if out, _ := heliosCode(t, bins, master, "hosts", host); !strings.Contains(out, "Up ") {
			return errorf("host %s not up yet:\n%s", host, out)
		}
		return nil
	})

	out := helios(t, bins, master, "create", "testjob:1", "busybox:latest", "--env", "FOO=bar", "-p", "foo=4711", "--",
		"/bin/sh", "-c", "while true; do echo $FOO; date; sleep 60; done")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "Creating job: {") || lines[1] != "Done." || !strings.HasPrefix(lines[2], "testjob:1:") {
		t.Fatalf("create printed:\n%s\nwant Creating job: {json}, Done., the id", out)
	}
	id := lines[2]
	// `helios watch` runs beside the walk-through and must print each change as it happens.
	watch := harness.Start(t, bins.Path("helios"), "-z", master, "watch", "testjob:1")

	out = helios(t, bins, master, "deploy", "testjob:1", host)
	if !strings.Contains(out, "Deploying "+id+"|START on ["+host+"]") || !strings.Contains(out, host+": done") {
		t.Fatalf("deploy printed:\n%s", out)
	}
	harness.Eventually(t, 60*time.Second, func() error {
		if st := historyStates(helios(t, bins, master, "history", "testjob:1"), host); !slices.Contains(st, "RUNNING") {
			return errorf("history so far %v", st)
		}
		return nil
	})
	if st := historyStates(helios(t, bins, master, "history", "testjob:1"), host); !slices.Equal(st, []string{"CREATING", "STARTING", "RUNNING"}) {
		t.Fatalf("history states %v, want CREATING STARTING RUNNING", st)
	}
	out = helios(t, bins, master, "jobs", "testjob:1")
	if !strings.Contains(out, `/bin/sh -c "while true; do echo $FOO; date; sleep 60; done"`) || !strings.Contains(out, "FOO=bar") {
		t.Fatalf("jobs printed:\n%s", out)
	}
	out = helios(t, bins, master, "status", "--job", "testjob:1")
	if !strings.Contains(out, "RUNNING") || !strings.Contains(out, "foo=4711:240") {
		t.Fatalf("status printed:\n%s\nwant RUNNING and foo=4711:<port in 24000:24100>", out)
	}

	ids := hostContainers(t, host)
	if len(ids) != 1 {
		t.Fatalf("containers of %s: %v, want 1", host, ids)
	}
	env, err := exec.Command("docker", "exec", ids[0], "env").CombinedOutput()
	if err != nil {
		t.Fatalf("docker exec env: %v: %s", err, env)
	}
	if !strings.Contains(string(env), "HELIOS_PORT_foo="+host+":240") || !strings.Contains(string(env), "FOO=bar") {
		t.Fatalf("container env:\n%s\nwant HELIOS_PORT_foo=%s:<port> and FOO=bar", env, host)
	}

	out = helios(t, bins, master, "undeploy", "testjob:1", host, "--yes")
	if !strings.Contains(out, host+": done") {
		t.Fatalf("undeploy printed:\n%s", out)
	}
	harness.Eventually(t, 60*time.Second, func() error {
		if ids := hostContainers(t, host); len(ids) != 0 {
			return errorf("containers still there: %v", ids)
		}
		return nil
	})
	st := historyStates(helios(t, bins, master, "history", "testjob:1"), host)
	if !slices.Equal(st, []string{"CREATING", "STARTING", "RUNNING", "STOPPING", "STOPPED"}) {
		t.Fatalf("history states %v, want CREATING STARTING RUNNING STOPPING STOPPED", st)
	}
	harness.Eventually(t, 10*time.Second, func() error {
		var seen []string
		for _, line := range strings.Split(watch.Output(), "\n") {
			if f := strings.Fields(line); len(f) >= 4 && f[2] == host {
				seen = append(seen, f[3])
			}
		}
		if !slices.Equal(seen, []string{"CREATING", "STARTING", "RUNNING", "STOPPING", "STOPPED"}) {
			return errorf("helios watch printed states %v so far:\n%s", seen, watch.Output())
		}
		return nil
	})
	// Undeployed everywhere, the job can be removed.
	if out := helios(t, bins, master, "remove", "testjob:1", "--yes"); !strings.Contains(out, "Done") && !strings.Contains(out, "done") {
		t.Fatalf("remove printed:\n%s", out)
	}
}

// TestManualWalkthroughWithEtcdAuth is the walk-through with etcd authentication on, as
// docs/operations.md sets it up: `helios-master etcd-auth init` and `add-agent` on an
// external etcd, then a helios-master and a helios-agent each logged in as its own etcd
// user (the agent's role reaches only its own host's keys).
func TestManualWalkthroughWithEtcdAuth(t *testing.T) {
	needDocker(t)
	needBusybox(t)
	bins := harness.BuildBinaries(t)
	host := "auth-" + harness.RunID(t)
	removeHostContainers(t, host)
	_, e := storetest.NewEtcd(t)
	ep := e.Endpoints()[0]
	dir := filepath.Join(t.TempDir(), "etcd-auth")
	for _, args := range [][]string{{"init"}, {"add-agent", host}} {
		args = append([]string{"etcd-auth", args[0], "--etcd", ep, "--dir", dir}, args[1:]...)
		if out, err := exec.Command(bins.Path("helios-master"), args...).CombinedOutput(); err != nil {
			t.Fatalf("helios-master %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	api := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	harness.Start(t, bins.Path("helios-master"), "--http", api, "--name", "auth-master", "--etcd", ep,
		"--etcd-username", "helios-master", "--etcd-password-file", filepath.Join(dir, "helios-master.password"),
		"--master-lease-ttl", "2s")
	master := "http://" + api
	harness.WaitHTTP(t, master+"/version", 60*time.Second)
	harness.Start(t, bins.Path("helios-agent"), "--name", host, "--etcd", ep,
		"--etcd-username", "helios-agent-"+host, "--etcd-password-file", filepath.Join(dir, "helios-agent-"+host+".password"),
		"--state-dir", filepath.Join(t.TempDir(), "agent"),
		"--metrics", fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t)),
		"--lease-ttl", "2s", "--resync-interval", "2s", "--port-range", "24000:24100")
	walkthrough(t, bins, master, host)
}
