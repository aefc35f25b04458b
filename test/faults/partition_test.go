package faults

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
)

// stallFor is how long the proxy stalls: longer than the client's keepalive (10 s ping,
// 3 s to answer) and the agent's lease, so a hang on the stalled connection would show.
const stallFor = 20 * time.Second

// restartDelay is the agent's default --restart-delay. maxRestartSlack bounds the rest of
// the time from a container's exit to the creation of its replacement (the engine telling
// the agent, a pass, a worker, the engine's create call): about 0.1–0.3 s on an idle
// machine, up to 2 s seen with a load average of 17 on 2 cores. stalledAgentEtcdTimeout is
// the proxy test's agent --etcd-timeout: a pass waiting on the stalled etcd would take it.
const (
	restartDelay            = time.Second
	maxRestartSlack         = 3 * time.Second
	stalledAgentEtcdTimeout = 6 * time.Second
)

// killAndWaitReplaced kills job's container id on host and waits for the agent to run a
// replacement; it returns the replacement and the time from the exit to its creation, by
// the engine's own clocks (neither the kill command's latency nor the test's polling count).
func (c *cluster) killAndWaitReplaced(host, job, id string) (string, time.Duration) {
	c.t.Helper()
	before := time.Now()
	if out, err := exec.Command("docker", "kill", id).CombinedOutput(); err != nil {
		c.t.Fatalf("docker kill: %v: %s", err, out)
	}
	var replacement string
	harness.Eventually(c.t, 30*time.Second, func() error {
		if replacement = c.running(host, job); replacement == "" || replacement == id {
			return fmt.Errorf("the killed container %s was not replaced while cut off from etcd", id[:12])
		}
		return nil
	})
	return replacement, dockerTime(c.t, "{{.Created}}", replacement).Sub(dieTime(c.t, id, before))
}

// dieTime is when the engine saw container id die, after since: from its event log, as the
// agent may have removed the container already (a loaded machine can take seconds to
// return from docker kill).
func dieTime(t *testing.T, id string, since time.Time) time.Time {
	t.Helper()
	out, err := exec.Command("docker", "events", "--since", since.Add(-time.Second).Format(time.RFC3339Nano),
		"--until", time.Now().Add(time.Second).Format(time.RFC3339Nano),
		"--filter", "container="+id, "--filter", "event=die", "--format", "{{.TimeNano}}").Output()
	if err != nil {
		t.Fatalf("docker events: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		t.Fatalf("docker events: no die event of %s", id[:12])
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		t.Fatalf("docker events: die time %q: %v", f[0], err)
	}
	return time.Unix(0, ns)
}

// dockerTime is a time field of a container as the engine recorded it.
func dockerTime(t *testing.T, format, id string) time.Time {
	t.Helper()
	v := inspect(t, format, id)
	at, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t.Fatalf("docker inspect %s of %s: %q: %v", format, id[:12], v, err)
	}
	return at
}

// TestFaultAgentCutOffByProxyDropThenStall cuts one agent off etcd through a proxy: the
// connection drops, then stalls (accepts, never answers), then comes back. The host shows
// DOWN and its containers keep running; a container killed meanwhile is restarted by the
// agent on its own (its loop does not hang on the stalled connection); afterwards the host
// is UP, the statuses converge, the same containers run and history shows the restart.
func TestFaultAgentCutOffByProxyDropThenStall(t *testing.T) {
	c := newCluster(t)
	// A long agent --etcd-timeout: an agent whose loop waits on the stalled etcd (the fault
	// issue 13 found) would show it by seconds, well past maxRestartSlack.
	c.agentEtcdTimeout = stalledAgentEtcdTimeout
	p := startProxy(t, c.etcdEP)
	host := "fault-proxy-" + harness.RunID(t)
	c.startAgent(host, p.URL())
	c.waitHost(host, "Up", 30*time.Second)
	c.deploy("steady:1", host)
	c.deploy("victim:1", host)
	ids := c.waitRunning(host, 60*time.Second, "steady", "victim")
	steadyStarted := inspect(t, "{{.State.StartedAt}}", ids["steady"])

	p.Drop()
	toDown := c.waitHost(host, "Down", 30*time.Second)
	t.Logf("figure: DOWN %v after the drop", toDown.Round(100*time.Millisecond))

	p.Stall()
	stalled := time.Now()
	// Killed twice: the second time, the statuses of the first restart wait in the outage
	// queue, so an agent whose pass flushed the queue before acting (the fault issue 13
	// found) would wait out --etcd-timeout on the stalled etcd, pass after pass.
	replacement := ids["victim"]
	for i := range 2 {
		var restartIn time.Duration
		replacement, restartIn = c.killAndWaitReplaced(host, "victim", replacement)
		t.Logf("figure: kill %d: replaced %v into the stall; the agent created the replacement %v after the exit (restart delay %v)",
			i+1, time.Since(stalled).Round(100*time.Millisecond), restartIn.Round(10*time.Millisecond), restartDelay)
		if restartIn > restartDelay+maxRestartSlack {
			t.Errorf("kill %d: the replacement was created %v after the exit, want within the restart delay %v + %v: the agent waits on etcd",
				i+1, restartIn, restartDelay, maxRestartSlack)
		}
	}
	time.Sleep(time.Until(stalled.Add(stallFor))) // the fault's length, not a wait for an event
	if got := c.hostStatus(host); got != "Down" {
		t.Fatalf("host %s is %q during the stall, want Down", host, got)
	}

	p.Pass()
	toUp := c.waitHost(host, "Up", 60*time.Second)
	after := c.waitRunning(host, 60*time.Second, "steady", "victim")
	t.Logf("figure: UP %v and converged %v after the connection came back", toUp.Round(100*time.Millisecond), time.Since(stalled.Add(stallFor)).Round(100*time.Millisecond))
	if after["steady"] != ids["steady"] {
		t.Errorf("steady:1 runs in %s, want the same container %s", after["steady"], ids["steady"])
	}
	if got := inspect(t, "{{.State.StartedAt}}", ids["steady"]); got != steadyStarted {
		t.Errorf("steady:1 was restarted (started %s, was %s)", got, steadyStarted)
	}
	if after["victim"] != replacement {
		t.Errorf("victim:1 runs in %s, want the replacement %s", after["victim"], replacement)
	}
	hist := c.helios("history", "victim:1")
	if !strings.Contains(hist, replacement[:12]) {
		t.Errorf("history of victim:1 does not show the replacement %s:\n%s", replacement[:12], hist)
	}
	t.Logf("figure: steady:1 restarts 0; history of victim:1:\n%s", hist)
}
