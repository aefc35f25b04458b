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

// TestAgentSIGKILLAndRestart kills helios-agent with SIGKILL while it runs three jobs, changes
// two of them while it is down, and restarts it: the untouched container keeps its id and
// start time, the stopped one is stopped, the undeployed one removed, and the host goes
// DOWN and back UP.
func TestAgentSIGKILLAndRestart(t *testing.T) {
	needDocker(t)
	needBusybox(t)
	bins := harness.BuildBinaries(t)
	host := "agent-" + harness.RunID(t)
	removeHostContainers(t, host)

	ports := freeMasterPorts(t)
	_, master := startMaster(t, bins, filepath.Join(t.TempDir(), "etcd"), ports)
	stateDir := t.TempDir()
	agentArgs := []string{
		"--name", host,
		"--etcd", fmt.Sprintf("http://127.0.0.1:%d", ports.client),
		"--state-dir", stateDir,
		"--port-range", "24100:24200",
		"--lease-ttl", "2s",
		"--resync-interval", "2s",
		"--metrics", "",
	}
	agent := harness.Start(t, bins.Path("helios-agent"), agentArgs...)
	waitHostStatus(t, bins, master, host, "Up")

	for _, job := range []string{"keep:1", "stop:1", "gone:1"} {
		helios(t, bins, master, "create", job, "busybox:latest", "--", "/bin/sh", "-c", "while true; do sleep 1; done")
		helios(t, bins, master, "deploy", job, host)
	}
	harness.Eventually(t, 60*time.Second, func() error {
		out := helios(t, bins, master, "status", "--host", host)
		if n := strings.Count(out, "RUNNING"); n != 3 {
			return errorf("%d of 3 RUNNING:\n%s", n, out)
		}
		return nil
	})
	keepID := containerOf(t, host, "keep:1")
	keepStarted := dockerInspect(t, "{{.State.StartedAt}}", keepID)
	stopID := containerOf(t, host, "stop:1")

	agent.Signal(syscall.SIGKILL)
	_ = agent.Wait(10 * time.Second)
	waitHostStatus(t, bins, master, host, "Down")
	helios(t, bins, master, "stop", "stop:1", host)
	helios(t, bins, master, "undeploy", "gone:1", host, "--yes")
	if running := dockerInspect(t, "{{.State.Running}}", stopID); running != "true" {
		t.Fatalf("with the agent dead, stop:1's container should still run (nobody acted yet), running=%s", running)
	}

	harness.Start(t, bins.Path("helios-agent"), agentArgs...)
	waitHostStatus(t, bins, master, host, "Up")
	harness.Eventually(t, 60*time.Second, func() error {
		if ids := containersOf(t, host, "gone:1"); len(ids) != 0 {
			return errorf("undeployed gone:1 still has containers %v", ids)
		}
		if running := dockerInspect(t, "{{.State.Running}}", stopID); running != "false" {
			return errorf("stop:1 container still running")
		}
		return nil
	})
	if id := containerOf(t, host, "keep:1"); id != keepID {
		t.Fatalf("keep:1 runs in container %s after the restart, want the adopted %s", id, keepID)
	}
	if started := dockerInspect(t, "{{.State.StartedAt}}", keepID); started != keepStarted {
		t.Fatalf("keep:1 container restarted: started %s, was %s", started, keepStarted)
	}
	out := helios(t, bins, master, "status", "--host", host)
	if !strings.Contains(out, "STOPPED") || strings.Contains(out, "gone:1") {
		t.Fatalf("status after the restart:\n%s\nwant stop:1 STOPPED and no gone:1", out)
	}
}

func waitHostStatus(t *testing.T, bins harness.Binaries, master, host, want string) {
	t.Helper()
	harness.Eventually(t, 30*time.Second, func() error {
		out, _ := heliosCode(t, bins, master, "hosts", host)
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == host && f[1] == want {
				return nil
			}
		}
		return errorf("host %s not %s:\n%s", host, want, out)
	})
}

// containersOf lists the containers of agent host that run job (name:version prefix). One
// `docker ps` gives ids and labels together: a container the agent removes meanwhile (it
// replaces exited ones) cannot fail a separate inspect.
func containersOf(t *testing.T, host, job string) []string {
	t.Helper()
	var ids []string
	for _, c := range containerStatesOf(t, host, job) {
		ids = append(ids, c.id)
	}
	return ids
}

// listedContainer is one line of `docker ps`: a container's id and state (created, running,
// exited, ...).
type listedContainer struct{ id, state string }

// containerStatesOf is containersOf with each container's state, from the same `docker ps`.
// Read so rather than by inspecting a listed container: Docker 20.10 lists a container being
// created before inspect finds it (agent/fake/hold.go), so such an inspect fails with "No
// such container" although nothing removed the container.
func containerStatesOf(t *testing.T, host, job string) []listedContainer {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--no-trunc", "--filter", "label=helios.host="+host,
		"--format", `{{.ID}} {{.State}} {{.Label "helios.job-id"}}`).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	var cs []listedContainer
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && strings.HasPrefix(f[2], job+":") {
			cs = append(cs, listedContainer{id: f[0], state: f[1]})
		}
	}
	return cs
}

func containerOf(t *testing.T, host, job string) string {
	t.Helper()
	ids := containersOf(t, host, job)
	if len(ids) != 1 {
		t.Fatalf("containers of %s on %s: %v, want exactly 1", job, host, ids)
	}
	return ids[0]
}
