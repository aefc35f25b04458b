package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// campaignInBackground runs st.Campaign and hands over its result.
func campaignInBackground(ctx context.Context, st *store.Store, name string) <-chan *store.Leadership {
	won := make(chan *store.Leadership, 1)
	go func() {
		l, err := st.Campaign(ctx, name, 2*time.Second)
		if err == nil {
			won <- l
		}
	}()
	return won
}

// waitCandidates polls until n keys are under the election prefix: a candidate that has
// put its key and is waiting, the positive marker that "it did not win" was checked late
// enough to mean something.
func waitCandidates(t *testing.T, cli *clientv3.Client, prefix string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := cli.Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
		mustNil(t, "list candidates", err)
		var keys []string
		for _, kv := range resp.Kvs {
			keys = append(keys, string(kv.Key))
		}
		if len(keys) == n {
			return keys
		}
		if time.Now().After(deadline) {
			t.Fatalf("election keys %v, want %d", keys, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestElectionKeyHasNoDoubleSlash(t *testing.T) {
	st, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	l, err := st.Campaign(ctx, "m", 2*time.Second)
	mustNil(t, "campaign", err)
	defer l.Resign(ctx) //nolint:errcheck
	keys := waitCandidates(t, cli, st.Keys().Election(), 2)
	var plain int
	for _, k := range keys {
		if rest := strings.TrimPrefix(k, st.Keys().Election()); !strings.Contains(rest, "/") {
			plain++
		}
	}
	if plain != 1 {
		t.Fatalf("election keys %v: want one at %s<lease>", keys, st.Keys().Election())
	}
}

// An older master (its candidacy at controller//<lease>, as concurrency.NewElection made it
// from a prefix ending in "/") leads: a master of this version waits until it resigns.
func TestNewMasterWaitsForAnOlderVersionLeader(t *testing.T) {
	st, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	grant, err := cli.Grant(ctx, 30)
	mustNil(t, "grant", err)
	oldKey := fmt.Sprintf("%s/%x", st.Keys().Election(), grant.ID)
	_, err = cli.Put(ctx, oldKey, "old-master", clientv3.WithLease(grant.ID))
	mustNil(t, "old candidacy", err)

	won := campaignInBackground(ctx, st, "new-master")
	waitCandidates(t, cli, st.Keys().Election(), 3) // the old key, the new one and its legacy copy
	select {
	case <-won:
		t.Fatal("new-master leads while an older master holds an older key")
	default:
	}
	if got, err := st.Leader(ctx); err != nil || got != "old-master" {
		t.Fatalf("leader = %q, %v; want old-master", got, err)
	}

	_, err = cli.Delete(ctx, oldKey) // the old master resigns
	mustNil(t, "resign old", err)
	select {
	case l := <-won:
		defer l.Resign(ctx) //nolint:errcheck
	case <-time.After(10 * time.Second):
		t.Fatal("new-master did not lead within 10s of the old master resigning")
	}
	if got, _ := st.Leader(ctx); got != "new-master" {
		t.Fatalf("leader = %q, want new-master", got)
	}
}

// The other way round: a master of this version leads, and a master of the previous version
// (concurrency.Election on the old prefix, exactly as it campaigned) must wait behind it.
func TestOlderVersionMasterWaitsForANewLeader(t *testing.T) {
	st, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	l, err := st.Campaign(ctx, "new-master", 2*time.Second)
	mustNil(t, "campaign new", err)

	sess, err := concurrency.NewSession(cli, concurrency.WithTTL(5))
	mustNil(t, "old session", err)
	defer sess.Close()
	old := concurrency.NewElection(sess, st.Keys().Election()) // the previous version's call
	won := make(chan error, 1)
	go func() { won <- old.Campaign(ctx, "old-master") }()
	oldKey := fmt.Sprintf("%s/%x", st.Keys().Election(), sess.Lease())
	var oldRev int64
	harnessEventually(t, func() error {
		resp, err := cli.Get(ctx, oldKey)
		if err != nil || len(resp.Kvs) == 0 {
			return fmt.Errorf("old-master's key %s not there yet (%v)", oldKey, err)
		}
		oldRev = resp.Kvs[0].CreateRevision
		return nil
	})
	// What the previous version waits on: an older key under its own prefix (controller//).
	behind, err := cli.Get(ctx, st.Keys().Election()+"/", clientv3.WithPrefix(), clientv3.WithMaxCreateRev(oldRev-1))
	mustNil(t, "older keys", err)
	if len(behind.Kvs) == 0 {
		t.Fatal("no key older than old-master's under the previous version's prefix: it would lead beside new-master")
	}
	select {
	case err := <-won:
		t.Fatalf("old-master's campaign returned (%v) while new-master leads", err)
	default:
	}

	mustNil(t, "resign new", l.Resign(ctx))
	select {
	case err := <-won:
		mustNil(t, "old campaign", err)
	case <-time.After(10 * time.Second):
		t.Fatal("old-master did not lead within 10s of new-master resigning")
	}
	if got, _ := st.Leader(ctx); got != "old-master" {
		t.Fatalf("leader = %q, want old-master", got)
	}
}

// harnessEventually polls cond for up to 10 s.
func harnessEventually(t *testing.T, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
