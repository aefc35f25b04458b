package agent_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestRestoreSuspicionIsReportedInEtcd: a report a restored etcd brought back from the
// past goes at start; when etcd goes back in time under the agent (its deployment and the
// host's generation gone, as a snapshot restore leaves them), the agent holds the removal
// and reports it under status/hosts/<host>/restore-suspected, where the host status shows
// it; a report deleted by hand comes back at a resync, a restarted agent keeps its since,
// and accept-restore ends it: the report goes, the removal is done.
func TestRestoreSuspicionIsReportedInEtcd(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	stale := model.RestoreSuspicion{EtcdGeneration: 1, AgentGeneration: 2, Since: 1}
	if err := h.st.PutRestoreSuspected(ctx, h.name, stale); err != nil {
		t.Fatal(err)
	}
	h.start()
	report := func() *model.RestoreSuspicion {
		t.Helper()
		hs, err := h.st.HostStatus(ctx, h.name)
		if err != nil {
			t.Fatal(err)
		}
		return hs.RestoreSuspected
	}
	h.eventually("the stale report removed by the starting agent", func() bool { return report() == nil })

	id := h.createJob("restored", nil)
	h.deploy(id, model.GoalStart)
	st := h.waitState(id, model.StateRunning)

	// etcd as restored from a snapshot taken before the deploy: no deployment, no generation.
	keys := h.st.Keys()
	if _, err := etcdCli.Txn(ctx).Then(clientv3.OpDelete(keys.Deployment(h.name, id)), clientv3.OpDelete(keys.HostGeneration(h.name))).Commit(); err != nil {
		t.Fatal(err)
	}
	var first model.RestoreSuspicion
	h.eventually("the suspected restore reported with one held action", func() bool {
		r := report()
		if r == nil || r.HeldActions < 1 {
			return false
		}
		first = *r
		return true
	})
	if first.EtcdGeneration != 0 || first.AgentGeneration == 0 || first.Since == 0 {
		t.Errorf("report %+v, want etcd's generation 0, the agent's and a since", first)
	}
	if h.metric("helios_agent_restore_suspected", nil) != 1 {
		t.Error("helios_agent_restore_suspected is not 1 while the report is in etcd")
	}

	// Lost from etcd (deleted by hand, or restored again): the next resync puts it back.
	if _, err := etcdCli.Delete(ctx, keys.RestoreSuspected(h.name)); err != nil {
		t.Fatal(err)
	}
	h.eventually("the report re-asserted after a resync", func() bool { return report() != nil })

	// A restarted agent still holds back, and the report keeps when the suspicion began.
	h.stop()
	h.start()
	h.waitResyncs(2)
	if r := report(); r == nil || r.Since != first.Since || r.AgentGeneration != first.AgentGeneration {
		t.Errorf("after the agent's restart the report is %+v, want since %d and agent generation %d kept", r, first.Since, first.AgentGeneration)
	}
	if cs := h.containers(); len(cs) != 1 || cs[0].ID != st.ContainerID {
		t.Fatalf("containers %v while the restore is suspected, want %.12s kept", cs, st.ContainerID)
	}

	held, err := h.st.AcceptRestore(ctx, h.name)
	if err != nil {
		t.Fatal(err)
	}
	if held == nil || held.AgentGeneration != first.AgentGeneration {
		t.Errorf("accept-restore answered %+v, want the agent's report", held)
	}
	h.eventually("the report removed once the restore is accepted", func() bool { return report() == nil })
	h.eventually("the removal done once accepted", func() bool { return len(h.containers()) == 0 })
	if h.metric("helios_agent_restore_suspected", nil) != 0 {
		t.Error("helios_agent_restore_suspected is not 0 once accepted")
	}
}

// gatedReportStore holds the agent's writes of its restore report until the gate opens, as
// a stalled etcd would.
type gatedReportStore struct {
	agent.Store
	gate  chan struct{}
	tried chan struct{} // closed at the first write tried
	once  sync.Once
}

func (g *gatedReportStore) PutRestoreSuspected(ctx context.Context, host string, v model.RestoreSuspicion) error {
	g.once.Do(func() { close(g.tried) })
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Store.PutRestoreSuspected(ctx, host, v)
}

// TestRestoreReportDoesNotHoldTheLoop: with the report's write stalled, the agent still
// restarts a container that exited (what a suspected restore keeps doing); once etcd
// answers, the report is there.
func TestRestoreReportDoesNotHoldTheLoop(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	gated := &gatedReportStore{Store: h.st, gate: make(chan struct{}), tried: make(chan struct{})}
	h.cfg = func(c *agent.Config) { c.Store = gated }
	h.start()
	id := h.createJob("report-gated", nil)
	h.deploy(id, model.GoalStart)
	st := h.waitState(id, model.StateRunning)

	keys := h.st.Keys()
	if _, err := etcdCli.Delete(ctx, keys.HostGeneration(h.name)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gated.tried:
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not try to report the suspected restore")
	}
	if err := h.rt.Kill(st.ContainerID, 1); err != nil {
		t.Fatal(err)
	}
	h.eventually("the exited container restarted while the report's write is stalled", func() bool {
		cs := h.containers()
		return len(cs) == 1 && cs[0].Running && cs[0].ID != st.ContainerID
	})
	close(gated.gate)
	h.eventually("the report in etcd once it answers", func() bool {
		hs, err := h.st.HostStatus(ctx, h.name)
		return err == nil && hs.RestoreSuspected != nil
	})
}
