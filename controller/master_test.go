package controller

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
)

// TestStoppedMasterLeavesAtOnce: a master stopped cleanly is no longer listed under
// /status/masters nor among the election's candidates a moment later, not a lease TTL
// later, whether it was waiting or leading. Each master has its own etcd client, closed as
// soon as Run returns, as the binaries do.
func TestStoppedMasterLeavesAtOnce(t *testing.T) {
	_, e := storetest.NewEtcd(t)
	observer := storetest.Open(t, e, store.Config{RequestTimeout: 2 * time.Second})
	ctx := context.Background()
	const ttl = 30 * time.Second // far longer than the few seconds allowed below
	start := func(name string) (stop func()) {
		st, err := store.Open(ctx, store.ConnectConfig{Endpoints: e.Endpoints(), DialTimeout: storetest.DialTimeout}, store.Config{RequestTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		stopMaster := startTestMaster(t, st, name, func(c *MasterConfig) { c.LeaseTTL, c.LeaderTTL = ttl, ttl })
		eventually(t, 10*time.Second, func() error { return listed(ctx, observer, name, true) })
		return func() {
			stopMaster()
			_ = st.Close()
		}
	}
	stopLeader := start("leader")
	eventually(t, 10*time.Second, func() error {
		if l, err := observer.Leader(ctx); err != nil || l != "leader" {
			return fmt.Errorf("leader %q (%v), want leader", l, err)
		}
		return nil
	})
	stopWaiting := start("waiting")

	for _, step := range []struct {
		name string
		stop func()
	}{{"waiting", stopWaiting}, {"leader", stopLeader}} {
		step.stop()
		eventually(t, 3*time.Second, func() error { return listed(ctx, observer, step.name, false) })
	}
}

// listed checks that name is (or is not) both registered as a master and a candidate.
func listed(ctx context.Context, st *store.Store, name string, want bool) error {
	ms, err := st.ListMasters(ctx)
	if err != nil {
		return err
	}
	cs, err := st.Candidates(ctx)
	if err != nil {
		return err
	}
	inMasters := slices.ContainsFunc(ms, func(m model.MasterInfo) bool { return m.Name == name })
	if inMasters != want || slices.Contains(cs, name) != want {
		return fmt.Errorf("%s: listed as master %v, candidate %v (candidates %v), want %v", name, inMasters, slices.Contains(cs, name), cs, want)
	}
	return nil
}
