package faults

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
)

// TestFaultAgentKilledDuringOutageKeepsQueuedStatuses cuts an agent off from etcd (the
// proxy drops), kills one of its containers so that the agent restarts it and queues the
// statuses, SIGKILLs the agent, starts another on the same state dir while still cut off,
// then restores the connection: the history shows every queued status once, in order.
func TestFaultAgentKilledDuringOutageKeepsQueuedStatuses(t *testing.T) {
	c := newCluster(t)
	p := startProxy(t, c.etcdEP)
	host := "fault-agentkill-" + harness.RunID(t)
	stateDir := t.TempDir()
	agent := c.startAgentIn(host, p.URL(), stateDir)
	c.waitHost(host, "Up", 30*time.Second)
	c.deploy("crash:1", host)
	first := c.waitRunning(host, 60*time.Second, "crash")["crash"]

	p.Drop()
	c.waitHost(host, "Down", 30*time.Second)
	if out, err := exec.Command("docker", "kill", first).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v\n%s", err, out)
	}
	const queued = "EXITED CREATING STARTING RUNNING"
	harness.Eventually(t, 60*time.Second, func() error {
		if got := queuedStates(stateDir); got != queued {
			return fmt.Errorf("queued in the state dir: %q, want %q", got, queued)
		}
		return nil
	})
	second := c.running(host, "crash")
	if second == "" || second == first {
		t.Fatalf("the restarted container is %q (the killed one was %s)", second, first)
	}
	agent.Kill() // SIGKILL: nothing flushed, nothing cleaned up

	again := c.startAgentIn(host, p.URL(), stateDir)
	harness.Eventually(t, 30*time.Second, func() error {
		if !strings.Contains(again.Output(), "status writes queued by the previous agent are written first") {
			return fmt.Errorf("the new agent has not loaded the queue yet")
		}
		return nil
	})
	p.Pass()
	restored := time.Now()
	c.waitRunning(host, 60*time.Second, "crash")
	want := "CREATING STARTING RUNNING " + queued
	var hist string
	harness.Eventually(t, 30*time.Second, func() error {
		hist = c.helios("history", "crash:1")
		if got := historyStates(hist, host); got != want {
			return fmt.Errorf("history states %q, want %q:\n%s", got, want, hist)
		}
		return nil
	})
	t.Logf("figure: history complete %v after the connection came back", time.Since(restored).Round(100*time.Millisecond))
	if !historyRow(hist, host, "RUNNING", second) {
		t.Errorf("history has no RUNNING in %s:\n%s", second[:12], hist)
	}
	if id := c.running(host, "crash"); id != second {
		t.Errorf("crash:1 runs in %s, want the container restarted during the outage %s", id, second)
	}
}

// startAgentIn is startAgent with the state dir given, so that a second agent can take up
// the first one's.
func (c *cluster) startAgentIn(host, etcdEP, stateDir string) *harness.Process {
	c.t.Helper()
	c.t.Cleanup(func() {
		if ids := c.containers(host, ""); len(ids) > 0 {
			_ = exec.Command("docker", append([]string{"rm", "-f", "-v"}, ids...)...).Run()
		}
	})
	return harness.Start(c.t, c.bins.Path("helios-agent"),
		"--name", host,
		"--etcd", etcdEP,
		"--state-dir", stateDir,
		"--lease-ttl", leaseTTL,
		"--resync-interval", resync,
		"--etcd-timeout", etcdTimeout.String(),
		"--metrics", "",
	)
}

// queuedStates is the states in the agent's outage queue file, space-separated.
func queuedStates(stateDir string) string {
	b, err := os.ReadFile(filepath.Join(stateDir, "pending.json"))
	if err != nil {
		return ""
	}
	var disk struct {
		Ops []struct {
			Status struct {
				State string `json:"state"`
			} `json:"status"`
		} `json:"ops"`
	}
	if json.Unmarshal(b, &disk) != nil {
		return ""
	}
	var s []string
	for _, op := range disk.Ops {
		s = append(s, op.Status.State)
	}
	return strings.Join(s, " ")
}

// historyStates is the STATE column of host's rows in `helios history` output, in order.
func historyStates(out, host string) string {
	var s []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 6 && f[0] == host {
			s = append(s, f[3])
		}
	}
	return strings.Join(s, " ")
}
