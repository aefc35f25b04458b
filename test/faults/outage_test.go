package faults

import (
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
)

// outageFor is how long etcd is stopped: the 60 s, many times the agent's lease,
// resync and --etcd-timeout.
const outageFor = 60 * time.Second

// TestFaultEtcdStoppedFor60Seconds stops the only etcd member for 60 s under a running
// helios-master and helios-agent: no container restarts; a container killed during the
// outage is restarted by the agent alone; once etcd is back the statuses converge (the
// replacement RUNNING per the master) soon, and history shows the restart.
func TestFaultEtcdStoppedFor60Seconds(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: stops etcd for 60 s under a master, an agent and containers (run without -short)")
	}
	harness.NeedBusybox(t)
	c, etcd := startLoneCluster(t, "outage")
	c.master = c.startMaster("fault-outage", c.etcdEP)
	host := "fault-outage-" + harness.RunID(t)
	c.startAgent(host, c.etcdEP)
	c.waitHost(host, "Up", 30*time.Second)
	c.deploy("steady:1", host)
	c.deploy("victim:1", host)
	ids := c.waitRunning(host, 60*time.Second, "steady", "victim")
	steadyStarted := inspect(t, "{{.State.StartedAt}}", ids["steady"])

	etcd.stop()
	stopped := time.Now()
	replacement, restartIn := c.killAndWaitReplaced(host, "victim", ids["victim"])
	t.Logf("figure: killed container replaced %v into the outage; created %v after its exit (restart delay %v)",
		time.Since(stopped).Round(100*time.Millisecond), restartIn.Round(10*time.Millisecond), restartDelay)
	if restartIn > restartDelay+maxRestartSlack {
		t.Errorf("the replacement was created %v after the exit, want within %v + %v", restartIn, restartDelay, maxRestartSlack)
	}
	time.Sleep(time.Until(stopped.Add(outageFor))) // the fault's length, not a wait for an event
	if got := c.running(host, "steady"); got != ids["steady"] {
		t.Fatalf("steady:1 runs in %q at the end of the outage, want %s", got, ids["steady"])
	}

	etcd.start()
	back := time.Now()
	after := c.waitRunning(host, 60*time.Second, "steady", "victim")
	t.Logf("figure: statuses converged %v after etcd came back", time.Since(back).Round(100*time.Millisecond))
	if took := time.Since(back); took > convergeWithin {
		t.Errorf("statuses converged %v after etcd came back, want within %v", took, convergeWithin)
	}
	if after["steady"] != ids["steady"] {
		t.Errorf("steady:1 runs in %s, want the same container %s", after["steady"], ids["steady"])
	}
	if got := inspect(t, "{{.State.StartedAt}}", ids["steady"]); got != steadyStarted {
		t.Errorf("steady:1 was restarted (started %s, was %s)", got, steadyStarted)
	}
	if after["victim"] != replacement {
		t.Errorf("victim:1 runs in %s, want the replacement %s made during the outage", after["victim"], replacement)
	}
	hist := c.helios("history", "victim:1")
	if !strings.Contains(hist, replacement[:12]) || !strings.Contains(hist, "EXITED") {
		t.Errorf("history of victim:1 does not show the exit and the replacement %s:\n%s", replacement[:12], hist)
	}
	t.Logf("figure: steady:1 restarts 0; history of victim:1:\n%s", hist)
}

// convergeWithin bounds the time from etcd's return to statuses converged: the agent's
// and the master's clients reconnect (the store resets their back-off, store/fastfail.go),
// the agent flushes its queued statuses, and the CLI reads them: seconds, with the suite's
// 2 s resync; the bound leaves room for a loaded machine.
const convergeWithin = 20 * time.Second
