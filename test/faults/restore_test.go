package faults

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// restoreBump is the revision bump of the restore, as docs/operations.md tells operators:
// far more than the writes made since the snapshot, so revisions only go forward.
const restoreBump = 1_000_000

// TestFaultSnapshotRestoreKeepsLaterContainers runs a master and an agent, saves an etcd
// snapshot, deploys another job, then stops etcd and restores the older snapshot with
// etcd's own restore (etcdutl's library, --bump-revision and --mark-compacted). The
// restored etcd has no deployment of the later job: the agent must keep its container,
// reporting the suspected restore (log, helios_agent_restore_suspected, and `helios hosts`,
// which marks the host's STATUS "(restore suspected)"), pass after pass,
// even once another job is deployed on the restored etcd, until the operator runs
// `helios accept-restore`; then it converges to etcd's state and
// removes it, and `helios hosts` no longer marks the host. The container deployed before the
// snapshot keeps running, same id, throughout.
func TestFaultSnapshotRestoreKeepsLaterContainers(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: restores etcd from a snapshot under a master, an agent and containers (run without -short)")
	}
	harness.NeedBusybox(t)
	c, etcd := startLoneCluster(t, "restore")
	c.master = c.startMaster("fault-restore", c.etcdEP)
	host := "fault-restore-" + harness.RunID(t)
	metrics := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	agent := c.startAgentWithMetrics(host, metrics)
	c.waitHost(host, "Up", 30*time.Second)
	c.deploy("before:1", host)
	ids := c.waitRunning(host, 60*time.Second, "before")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	snap := filepath.Join(t.TempDir(), "snapshot.db")
	if _, err := snapshot.NewV3(zap.NewNop()).Save(ctx, clientv3.Config{Endpoints: []string{etcd.cfg.ClientURL}, Logger: zap.NewNop()}, snap); err != nil {
		t.Fatalf("snapshot save: %v", err)
	}
	c.deploy("after:1", host)
	ids = c.waitRunning(host, 60*time.Second, "before", "after")

	etcd.stop()
	restored := filepath.Join(t.TempDir(), "restored")
	if err := snapshot.NewV3(zap.NewNop()).Restore(snapshot.RestoreConfig{
		SnapshotPath:        snap,
		Name:                etcd.cfg.Name,
		OutputDataDir:       restored,
		PeerURLs:            []string{etcd.cfg.PeerURL},
		InitialCluster:      etcd.cfg.Name + "=" + etcd.cfg.PeerURL,
		InitialClusterToken: "etcd-cluster",
		RevisionBump:        restoreBump,
		MarkCompacted:       true,
	}); err != nil {
		t.Fatalf("snapshot restore: %v", err)
	}
	etcd.cfg.DataDir = restored
	etcd.start()
	back := time.Now()

	// The agent notices, and holds back the removal of after:1's container pass after pass
	// (the suite's resync is 2 s): the second held removal is the positive marker that a
	// full pass after the restore chose, and did not do, the removal.
	harness.Eventually(t, 60*time.Second, func() error {
		if got := c.running(host, "after"); got != ids["after"] {
			t.Fatalf("after:1, deployed after the snapshot, runs in %q %v after etcd came back, before the operator decided; want %s kept",
				got, time.Since(back).Round(100*time.Millisecond), ids["after"][:12])
		}
		if n := strings.Count(agent.Output(), "held back"); n < 2 || !strings.Contains(agent.Output(), "job=after:1") {
			return fmt.Errorf("the agent held back %d actions since etcd came back, want the removal of after:1 twice", n)
		}
		return nil
	})
	t.Logf("figure: restore suspected and removal held %v after etcd came back", time.Since(back).Round(100*time.Millisecond))
	if !strings.Contains(agent.Output(), "etcd holds an older desired state of this host") {
		t.Errorf("the agent did not log the suspected restore:\n%s", tail(agent.Output(), 4000))
	}
	if got := scrape(t, metrics, "helios_agent_restore_suspected"); got != "1" {
		t.Errorf("helios_agent_restore_suspected = %q, want 1", got)
	}
	// The operator sees the held host from the control plane: `helios hosts` marks it.
	harness.Eventually(t, 60*time.Second, func() error {
		if line := c.hostLine(host); !strings.Contains(line, "(restore suspected)") {
			return fmt.Errorf("helios hosts shows %q for the held host, want (restore suspected) in its STATUS", line)
		}
		return nil
	})
	t.Logf("figure: helios hosts marked the host (restore suspected) %v after etcd came back", time.Since(back).Round(100*time.Millisecond))
	if got := c.hostStatus(host); got != "Up" {
		t.Errorf("helios hosts: the STATUS of the held host starts with %q, want Up", got)
	}
	if out := c.helios("hosts", "--status", "UP", "-q"); !strings.Contains(out, host) {
		t.Errorf("helios hosts --status UP -q lost the held host:\n%s", out)
	}
	if got := c.running(host, "after"); got != ids["after"] {
		t.Fatalf("after:1, deployed after the snapshot, runs in %q before the operator decided, want %s", got, ids["after"])
	}
	if got := c.running(host, "before"); got != ids["before"] {
		t.Fatalf("before:1 runs in %q, want %s", got, ids["before"])
	}

	// A job deployed on the restored etcd does not end the guard, though it moves the host's
	// generation past the agent's: held too, it starts once the restore is accepted.
	c.deploy("later:1", host)
	heldBefore := strings.Count(agent.Output(), "held back")
	harness.Eventually(t, 60*time.Second, func() error {
		if got := c.running(host, "after"); got != ids["after"] {
			t.Fatalf("after:1 runs in %q once later:1 was deployed on the restored etcd, want %s kept", got, ids["after"][:12])
		}
		if n := strings.Count(agent.Output(), "held back"); n < heldBefore+4 || !strings.Contains(agent.Output(), "job=later:1") {
			return fmt.Errorf("%d actions held back since later:1 was deployed, want after:1's removal and later:1's start twice", n-heldBefore)
		}
		return nil
	})

	if out := c.helios("accept-restore", host); !strings.Contains(out, host+": done (its agent was holding back") {
		t.Errorf("accept-restore did not say the agent was holding back:\n%s", out)
	}
	accepted := time.Now()
	harness.Eventually(t, 60*time.Second, func() error {
		if left := c.containers(host, "after"); len(left) > 0 {
			return fmt.Errorf("after:1, not in the restored etcd, still has containers %v after accept-restore", left)
		}
		return nil
	})
	t.Logf("figure: converged %v after accept-restore", time.Since(accepted).Round(100*time.Millisecond))
	harness.Eventually(t, 60*time.Second, func() error {
		if line := c.hostLine(host); strings.Contains(line, "restore suspected") || !strings.Contains(line, " Up ") {
			return fmt.Errorf("helios hosts shows %q after accept-restore, want Up without the restore suspected", line)
		}
		return nil
	})
	t.Logf("figure: helios hosts dropped the mark %v after accept-restore", time.Since(accepted).Round(100*time.Millisecond))
	if got := scrape(t, metrics, "helios_agent_restore_suspected"); got != "0" {
		t.Errorf("helios_agent_restore_suspected = %q after accept-restore, want 0", got)
	}
	after := c.waitRunning(host, 60*time.Second, "before", "later")
	if after["before"] != ids["before"] {
		t.Errorf("before:1 runs in %s, want the same container %s throughout", after["before"], ids["before"])
	}
}

// hostLine is host's row of `helios hosts` ("" when none).
func (c *cluster) hostLine(host string) string {
	c.t.Helper()
	out, _ := c.heliosCode("-z", c.master, "hosts", host)
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == host {
			return line
		}
	}
	return ""
}

// startAgentWithMetrics is startAgent with the agent's metrics served on addr.
func (c *cluster) startAgentWithMetrics(host, addr string) *harness.Process {
	c.t.Helper()
	c.startAgentCleanup(host)
	return harness.Start(c.t, c.bins.Path("helios-agent"),
		"--name", host,
		"--etcd", c.etcdEP,
		"--state-dir", c.t.TempDir(),
		"--lease-ttl", leaseTTL,
		"--resync-interval", resync,
		"--etcd-timeout", etcdTimeout.String(),
		"--metrics", addr,
	)
}

// scrape is the value of the unlabelled metric name served at addr, "" when absent.
func scrape(t *testing.T, addr, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Errorf("scrape %s: %v", addr, err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
