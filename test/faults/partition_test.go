package faults

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
)

// stallFor is how long the proxy stalls: longer than the client's keepalive (10 s ping,
// 3 s to answer) and the agent's lease, so a hang on the stalled connection would show.
const stallFor = 20 * time.Second

// TestFaultAgentCutOffByProxyDropThenStall cuts one agent off etcd through a proxy: the
// connection drops, then stalls (accepts, never answers), then comes back. The host shows
// DOWN and its containers keep running; a container killed meanwhile is restarted by the
// agent on its own (its loop does not hang on the stalled connection); afterwards the host
// is UP, the statuses converge, the same containers run and history shows the restart.
func TestFaultAgentCutOffByProxyDropThenStall(t *testing.T) {
	c := newCluster(t)
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
	if out, err := exec.Command("docker", "kill", ids["victim"]).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v: %s", err, out)
	}
	var replacement string
	harness.Eventually(t, 30*time.Second, func() error {
		if replacement = c.running(host, "victim"); replacement == "" || replacement == ids["victim"] {
			return fmt.Errorf("the killed container was not replaced while etcd stalls")
		}
		return nil
	})
	t.Logf("figure: killed container replaced %v into the stall", time.Since(stalled).Round(100*time.Millisecond))
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
