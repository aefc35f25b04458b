package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
)

// TestFaultCompactedWhileCutOff cuts an agent off (the proxy drops), changes its desired
// state meanwhile (one job undeployed, one deployed), writes past and compacts etcd beyond
// the revision the agent's watch had reached, then restores the connection: the agent's
// watch cannot resume, so it must list again, and converge to the new desired state
// without touching the container it keeps.
func TestFaultCompactedWhileCutOff(t *testing.T) {
	c := newCluster(t)
	p := startProxy(t, c.etcdEP)
	host := "fault-compact-" + harness.RunID(t)
	// No periodic resync within the test: only the watch's re-list can bring the change.
	c.startAgent(host, p.URL(), "10m")
	c.waitHost(host, "Up", 30*time.Second)
	c.deploy("keep:1", host)
	c.deploy("gone:1", host)
	ids := c.waitRunning(host, 60*time.Second, "keep", "gone")

	p.Drop()
	c.waitHost(host, "Down", 30*time.Second)
	c.helios("undeploy", "gone:1", host)
	c.deploy("new:1", host)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 20 { // unrelated writes, so the compaction is well past the agent's revision
		if _, err := c.etcd.Put(ctx, "/fault-test/filler", fmt.Sprint(i)); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	resp, err := c.etcd.Get(ctx, "/fault-test/filler")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if _, err := c.etcd.Compact(ctx, resp.Header.Revision); err != nil {
		t.Fatalf("compact: %v", err)
	}
	t.Logf("compacted at revision %d while %s was cut off", resp.Header.Revision, host)
	if id := c.running(host, "gone"); id != ids["gone"] {
		t.Fatalf("gone:1 changed while its agent was cut off: running %q, was %s", id, ids["gone"])
	}

	p.Pass()
	restored := time.Now()
	after := c.waitRunning(host, 60*time.Second, "keep", "new")
	harness.Eventually(t, 30*time.Second, func() error {
		if left := c.containers(host, "gone"); len(left) > 0 {
			return fmt.Errorf("the undeployed gone:1 still has containers %v", left)
		}
		return nil
	})
	t.Logf("figure: converged %v after the connection came back", time.Since(restored).Round(100*time.Millisecond))
	if after["keep"] != ids["keep"] {
		t.Errorf("keep:1 runs in %s, want the same container %s", after["keep"], ids["keep"])
	}
	if hist := c.helios("history", "new:1"); !historyRow(hist, host, "RUNNING", after["new"]) {
		t.Errorf("history of new:1 has no RUNNING in %s:\n%s", after["new"][:12], hist)
	}
}

// historyRow tells whether `helios history` output has a row of host in state with container id.
func historyRow(out, host, state, id string) bool {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 6 && f[0] == host && f[3] == state && f[5] == id[:12] {
			return true
		}
	}
	return false
}
