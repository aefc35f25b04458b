package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
)

// TestEtcdOutageOf30Seconds stops the master and its embedded etcd for 30 s under a running
// agent: no container is restarted, a container killed meanwhile is replaced, once (no
// container of its job comes and goes), and the statuses in etcd converge once it is back.
func TestEtcdOutageOf30Seconds(t *testing.T) {
	needDocker(t)
	needBusybox(t)
	bins := harness.BuildBinaries(t)
	host := "outage-" + harness.RunID(t)
	removeHostContainers(t, host)

	ports := freeMasterPorts(t)
	dataDir := filepath.Join(t.TempDir(), "etcd")
	master, url := startMaster(t, bins, dataDir, ports)
	harness.Start(t, bins.Path("helios-agent"),
		"--name", host,
		"--etcd", fmt.Sprintf("http://127.0.0.1:%d", ports.client),
		"--state-dir", t.TempDir(),
		"--port-range", "24200:24300",
		"--lease-ttl", "2s",
		"--resync-interval", "2s",
		"--metrics", "",
	)
	waitHostStatus(t, bins, url, host, "Up")
	for _, job := range []string{"steady:1", "victim:1"} {
		helios(t, bins, url, "create", job, "busybox:latest", "--", "/bin/sh", "-c", "while true; do sleep 1; done")
		helios(t, bins, url, "deploy", job, host)
	}
	harness.Eventually(t, 60*time.Second, func() error {
		if out := helios(t, bins, url, "status", "--host", host); strings.Count(out, "RUNNING") != 2 {
			return errorf("not both RUNNING:\n%s", out)
		}
		return nil
	})
	steady := containerOf(t, host, "steady:1")
	steadyStarted := dockerInspect(t, "{{.State.StartedAt}}", steady)
	victim := containerOf(t, host, "victim:1")

	outageStart := time.Now()
	master.Signal(syscall.SIGTERM)
	if err := master.Wait(20 * time.Second); err != nil {
		t.Fatalf("master did not stop: %v", err)
	}
	if out, err := exec.Command("docker", "kill", victim).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v: %s", err, out)
	}
	// Every container of victim:1 seen from here on must be the killed one or its one
	// replacement: another that came and went would be a container the agent lost.
	seen := map[string]bool{}
	see := func() []listedContainer {
		cs := containerStatesOf(t, host, "victim:1")
		for _, c := range cs {
			seen[c.id] = true
		}
		return cs
	}
	var replacement string
	harness.Eventually(t, 20*time.Second, func() error {
		for _, c := range see() {
			if c.id != victim && c.state == "running" {
				replacement = c.id
				return nil
			}
		}
		return errorf("the killed container was not replaced while etcd is down")
	})
	// The outage lasts 30 s; the host's containers are watched meanwhile.
	for time.Now().Before(outageStart.Add(30 * time.Second)) {
		see()
		time.Sleep(500 * time.Millisecond)
	}
	if id := containerOf(t, host, "steady:1"); id != steady {
		t.Fatalf("steady:1 runs in %s after the outage, want the same container %s", id, steady)
	}
	if started := dockerInspect(t, "{{.State.StartedAt}}", steady); started != steadyStarted {
		t.Fatalf("steady:1 was restarted during the outage (started %s, was %s)", started, steadyStarted)
	}

	_, url = startMaster(t, bins, dataDir, ports)
	harness.Eventually(t, 60*time.Second, func() error {
		out := helios(t, bins, url, "status", "--host", host, "-f")
		if !strings.Contains(out, replacement) || strings.Count(out, "RUNNING") != 2 {
			return errorf("statuses not converged (want victim:1 RUNNING in %s):\n%s", replacement[:12], out)
		}
		return nil
	})
	waitHostStatus(t, bins, url, host, "Up")
	see()
	for id := range seen {
		if id != victim && id != replacement {
			t.Errorf("container %s of victim:1 came and went: only the killed container %s and its replacement %s should have been seen",
				id, victim, replacement)
		}
	}
	if ids := containersOf(t, host, "victim:1"); len(ids) != 1 || ids[0] != replacement {
		t.Errorf("containers of victim:1 after the outage: %v, want only the replacement %s", ids, replacement)
	}
}
