package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
)

func startTestMaster(t *testing.T, st *store.Store, name string, opts ...func(*MasterConfig)) context.CancelFunc {
	t.Helper()
	cfg := MasterConfig{
		Name: name, HTTPAddr: "127.0.0.1:0", Store: st,
		LeaseTTL: time.Second, LeaderTTL: time.Second, DownSweepInterval: 200 * time.Millisecond,
		ExpiryInterval: 200 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := NewMaster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	stop := func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true within %v: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLeaderRecordsHostsDownAndFailsOver: one of two masters leads and records when a
// host's agent went away; when it stops, the other takes over and keeps recording.
func TestLeaderRecordsHostsDownAndFailsOver(t *testing.T) {
	cli, e := storetest.NewEtcd(t)
	st := storetest.Open(t, e, store.Config{RequestTimeout: 2 * time.Second})
	ctx := context.Background()

	stopFirst := startTestMaster(t, st, "first")
	eventually(t, 10*time.Second, func() error {
		if l, err := st.Leader(ctx); err != nil || l != "first" {
			return fmt.Errorf("leader %q (%v), want first", l, err)
		}
		return nil
	})
	startTestMaster(t, st, "second")

	// A host registered but never up is swept and recorded as down.
	if err := st.RegisterHost(ctx, "quiet", "id1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if hs, err := st.HostStatus(ctx, "quiet"); err != nil || hs.DownSince == 0 {
			return fmt.Errorf("quiet not recorded down: %+v %v", hs, err)
		}
		return nil
	})

	stopFirst()
	eventually(t, 10*time.Second, func() error {
		if l, err := st.Leader(ctx); err != nil || l != "second" {
			return fmt.Errorf("leader %q (%v), want second", l, err)
		}
		return nil
	})

	// An agent's lease ending is seen by the new leader.
	if err := st.RegisterHost(ctx, "busy", "id2"); err != nil {
		t.Fatal(err)
	}
	lease, err := cli.Grant(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutUp(ctx, "busy", store.LeaseID(lease.ID)); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, err := cli.Revoke(ctx, lease.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		hs, err := st.HostStatus(ctx, "busy")
		if err != nil || hs.DownSince == 0 {
			return fmt.Errorf("busy not recorded down: %+v %v", hs, err)
		}
		if since := time.UnixMilli(hs.DownSince); since.Before(before.Add(-time.Second)) {
			return fmt.Errorf("busy down since %v, before its lease ended at %v", since, before)
		}
		return nil
	})
}

// TestHostsDownTooLongAreDeregistered: with an agent reaping timeout, a host recorded down
// for longer is deregistered with its deployments; an UP host is kept.
func TestHostsDownTooLongAreDeregistered(t *testing.T) {
	cli, e := storetest.NewEtcd(t)
	st := storetest.Open(t, e, store.Config{RequestTimeout: 2 * time.Second})
	ctx := context.Background()
	for _, h := range []string{"gone", "alive"} {
		if err := st.RegisterHost(ctx, h, "id-"+h); err != nil {
			t.Fatal(err)
		}
	}
	lease, err := cli.Grant(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutUp(ctx, "alive", store.LeaseID(lease.ID)); err != nil {
		t.Fatal(err)
	}
	startTestMaster(t, st, "m", func(c *MasterConfig) { c.AgentReapingTimeout = time.Second })
	eventually(t, 15*time.Second, func() error {
		hosts, err := st.ListHosts(ctx)
		if err != nil || len(hosts) != 1 || hosts[0] != "alive" {
			return fmt.Errorf("hosts %v (%v), want only alive", hosts, err)
		}
		return nil
	})
}
