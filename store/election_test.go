package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestSecondCandidateLeadsOnceTheFirstResigns(t *testing.T) {
	st, _, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	a, err := st.Campaign(ctx, "master-a", 2*time.Second)
	mustNil(t, "campaign a", err)
	if got, err := st.Leader(ctx); err != nil || got != "master-a" {
		t.Fatalf("leader = %q, %v; want master-a", got, err)
	}
	won := make(chan *store.Leadership, 1)
	go func() {
		b, err := st.Campaign(ctx, "master-b", 2*time.Second)
		if err == nil {
			won <- b
		}
	}()
	select {
	case <-won:
		t.Fatal("master-b won while master-a leads")
	case <-time.After(300 * time.Millisecond):
	}
	mustNil(t, "resign a", a.Resign(ctx))
	select {
	case b := <-won:
		defer b.Resign(ctx) //nolint:errcheck
	case <-time.After(10 * time.Second):
		t.Fatal("master-b did not take over within 10s of master-a resigning")
	}
	if got, _ := st.Leader(ctx); got != "master-b" {
		t.Fatalf("leader = %q, want master-b", got)
	}
}

// TestDeposedLeaderCannotWrite: after the old leader's lease is gone and another leads,
// its fenced writes fail with ErrNotLeader and change nothing.
func TestDeposedLeaderCannotWrite(t *testing.T) {
	reg := prometheus.NewRegistry()
	st, cli, _ := newStore(t, store.Config{Registerer: reg})
	ctx := testCtx(t)
	mustNil(t, "register", st.RegisterHost(ctx, "h1", "id1"))
	old, err := st.Campaign(ctx, "old", 2*time.Second)
	mustNil(t, "campaign old", err)
	// The old leader's lease is revoked behind its back, as when etcd expired it.
	resp, err := cli.Get(ctx, st.Keys().Election(), clientv3.WithPrefix())
	mustNil(t, "read election", err)
	if len(resp.Kvs) != 2 || resp.Kvs[0].Lease != resp.Kvs[1].Lease {
		t.Fatalf("election keys: %v, want the candidacy and its legacy copy on one lease", resp.Kvs)
	}
	_, err = cli.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	mustNil(t, "revoke", err)
	next, err := st.Campaign(ctx, "next", 2*time.Second)
	mustNil(t, "campaign next", err)
	defer next.Resign(ctx) //nolint:errcheck

	before := revision(t, cli)
	_, err = st.MarkHostDown(ctx, old, "h1", time.Now())
	if !errors.Is(err, store.ErrNotLeader) {
		t.Fatalf("deposed leader's write: %v, want ErrNotLeader", err)
	}
	// A lost fence is not an etcd failure: said once, and not counted as an etcd error.
	if msg := err.Error(); strings.Count(msg, "not leader") != 1 || strings.Contains(msg, "etcd") {
		t.Errorf("deposed leader's error %q: want one plain 'not leader'", msg)
	}
	if n := etcdErrors(t, reg, "mark-host-down"); n != 0 {
		t.Errorf("a lost fence counted %v etcd errors", n)
	}
	if err := st.ReapHost(ctx, old, "h1"); !errors.Is(err, store.ErrNotLeader) {
		t.Fatalf("deposed leader's reap: %v, want ErrNotLeader", err)
	}
	if after := revision(t, cli); after != before {
		t.Fatalf("revision moved from %d to %d: the deposed leader wrote", before, after)
	}
	if wrote, err := st.MarkHostDown(ctx, next, "h1", time.Now()); err != nil || !wrote {
		t.Fatalf("current leader's write: wrote=%v err=%v", wrote, err)
	}
}

func TestHostDownRecordedOnceAndClearedByUp(t *testing.T) {
	st, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	l, err := st.Campaign(ctx, "m", 2*time.Second)
	mustNil(t, "campaign", err)
	defer l.Resign(ctx) //nolint:errcheck
	mustNil(t, "register", st.RegisterHost(ctx, "h1", "id1"))

	missing, err := st.HostsWithoutRecord(ctx)
	mustNil(t, "sweep", err)
	if len(missing) != 1 || missing[0] != "h1" {
		t.Fatalf("hosts without record: %v, want [h1]", missing)
	}
	at := time.UnixMilli(1_700_000_000_000)
	if wrote, err := st.MarkHostDown(ctx, l, "h1", at); err != nil || !wrote {
		t.Fatalf("mark down: wrote=%v err=%v", wrote, err)
	}
	// A second, later report does not move the time.
	if wrote, err := st.MarkHostDown(ctx, l, "h1", at.Add(time.Hour)); err != nil || wrote {
		t.Fatalf("second mark: wrote=%v err=%v, want no write", wrote, err)
	}
	hs, err := st.HostStatus(ctx, "h1")
	mustNil(t, "host status", err)
	if hs.Status != model.HostDown || hs.DownSince != at.UnixMilli() {
		t.Fatalf("status %s down-since %d, want DOWN since %d", hs.Status, hs.DownSince, at.UnixMilli())
	}
	if wrote, _ := st.MarkHostDown(ctx, l, "unregistered", at); wrote {
		t.Fatal("an unregistered host was marked down")
	}

	lease, err := cli.Grant(ctx, 5)
	mustNil(t, "grant", err)
	mustNil(t, "up", st.PutUp(ctx, "h1", store.LeaseID(lease.ID)))
	hs, err = st.HostStatus(ctx, "h1")
	mustNil(t, "host status", err)
	if hs.Status != model.HostUp || hs.DownSince != 0 {
		t.Fatalf("after up: status %s down-since %d, want UP and no record", hs.Status, hs.DownSince)
	}
	if wrote, _ := st.MarkHostDown(ctx, l, "h1", at); wrote {
		t.Fatal("an UP host was marked down")
	}

	// The up key vanishing is seen by the watcher.
	seen := make(chan string, 16)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go st.WatchHostsGoingDown(wctx, func(h string) { seen <- h }) //nolint:errcheck
	waitWatching(t, ctx, st, cli, seen)
	_, err = cli.Revoke(ctx, lease.ID)
	mustNil(t, "revoke", err)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case h := <-seen:
			if h == "probe" {
				continue // a later probe of waitWatching's, seen after the first
			}
			if h != "h1" {
				t.Fatalf("watcher saw %q go down, want h1", h)
			}
			return
		case <-timeout:
			t.Fatal("the watcher did not see h1's up key vanish")
		}
	}
}

func TestClusterIDClaimedOnceAndChecked(t *testing.T) {
	st, cli, e := newStore(t, store.Config{})
	ctx := testCtx(t)
	mustNil(t, "claim", st.EnsureClusterID(ctx, "prod"))
	mustNil(t, "same id again", st.EnsureClusterID(ctx, "prod"))
	before := revision(t, cli)
	err := st.EnsureClusterID(ctx, "staging")
	if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), `"prod"`) || !strings.Contains(err.Error(), `"staging"`) {
		t.Fatalf("other id: %v, want ErrConflict naming prod and staging", err)
	}
	if after := revision(t, cli); after != before {
		t.Fatal("a refused cluster id wrote to etcd")
	}
	// Another key root is another cluster.
	other := storetest.Open(t, e, store.Config{Prefix: "/other"})
	mustNil(t, "other root", other.EnsureClusterID(ctx, "staging"))
}

// etcdErrors is helios_store_etcd_errors_total{op} as gathered from reg (0 when absent).
func etcdErrors(t *testing.T, reg *prometheus.Registry, op string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	mustNil(t, "gather", err)
	for _, mf := range mfs {
		if mf.GetName() != "helios_store_etcd_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" && l.GetValue() == op {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// waitWatching returns once the hosts-down watcher reports: it reports only from the moment
// its watch opens, so a probe host's up key is written and its lease revoked until the
// watcher sees that probe go down.
func waitWatching(t *testing.T, ctx context.Context, st *store.Store, cli *clientv3.Client, seen <-chan string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		lease, err := cli.Grant(ctx, 60)
		mustNil(t, "grant probe", err)
		mustNil(t, "probe up", st.PutUp(ctx, "probe", store.LeaseID(lease.ID)))
		_, err = cli.Revoke(ctx, lease.ID)
		mustNil(t, "revoke probe", err)
		select {
		case h := <-seen:
			if h != "probe" {
				t.Fatalf("watcher saw %q go down before the probe", h)
			}
			return
		case <-time.After(100 * time.Millisecond): // not watching yet: probe again
		}
	}
	t.Fatal("the hosts-down watcher never reported a probe host going down within 10s")
}
