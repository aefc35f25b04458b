package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
)

// A leader's change is nested in the fence's transaction, which etcd counts as one more
// operation: a fenced change of maxTxnOps writes must be refused by the store with its own
// message, before etcd refuses it with "too many operations", and nothing is written.
func TestFencedChangeLeavesRoomForTheFence(t *testing.T) {
	st, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	l, err := st.Campaign(ctx, "master-a", 5*time.Second)
	if err != nil {
		t.Fatalf("campaign: %v", err)
	}
	if err := st.PutKeysGuarded(ctx, l, "/t/fenced127/", 127); err != nil {
		t.Fatalf("fenced change of 127 writes: %v", err)
	}
	before := revision(t, cli)
	err = st.PutKeysGuarded(ctx, l, "/t/fenced128/", 128)
	if err == nil || !strings.Contains(err.Error(), "do not fit one etcd transaction (127)") {
		t.Fatalf("fenced change of 128 writes: got %v, want the store's size error", err)
	}
	if after := revision(t, cli); after != before {
		t.Fatalf("a refused change wrote: revision %d -> %d", before, after)
	}
	if err := st.PutKeysGuarded(ctx, nil, "/t/plain128/", 128); err != nil {
		t.Fatalf("unfenced change of 128 writes: %v", err)
	}
}
