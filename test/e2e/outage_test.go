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
// agent: no container is restarted, a container killed meanwhile is restarted, and the
// statuses in etcd converge once it is back.
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
	var replacement string
	harness.Eventually(t, 20*time.Second, func() error {
		for _, id := range containersOf(t, host, "victim:1") {
			if id == victim {
				continue
			}
			// Listed, then inspected: the agent acts in between, so a container may be gone
			// by now; the next poll sees what replaced it.
			out, err := exec.Command("docker", "inspect", "--format", "{{.State.Running}}", id).CombinedOutput()
			if err != nil {
				return errorf("container %s of victim:1 vanished while inspected: %v: %s", id, err, out)
			}
			if strings.TrimSpace(string(out)) == "true" {
				replacement = id
				return nil
			}
		}
		return errorf("the killed container was not replaced while etcd is down")
	})
	time.Sleep(time.Until(outageStart.Add(30 * time.Second)))
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
}
