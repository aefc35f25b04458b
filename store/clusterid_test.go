package store_test

import (
	"errors"
	"testing"

	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
)

func TestClusterUIDCreatedOnceThenKept(t *testing.T) {
	st, cli, e := newStore(t, store.Config{})
	ctx := testCtx(t)
	got, err := st.EnsureClusterUID(ctx, "first")
	mustNil(t, "create", err)
	if got != "first" {
		t.Fatalf("first call = %q, want the proposed id", got)
	}
	before := revision(t, cli)
	got, err = st.EnsureClusterUID(ctx, "second")
	mustNil(t, "again", err)
	if got != "first" {
		t.Fatalf("second call = %q, want the id already kept (first)", got)
	}
	if after := revision(t, cli); after != before {
		t.Fatal("a second proposal wrote to etcd")
	}
	// Another key root is another cluster, with an id of its own.
	other := storetest.Open(t, e, store.Config{Prefix: "/other"})
	if got, err := other.EnsureClusterUID(ctx, "second"); err != nil || got != "second" {
		t.Fatalf("other root = %q, %v; want second", got, err)
	}
	if _, err := st.EnsureClusterUID(ctx, ""); !errors.Is(err, store.ErrInvalidName) {
		t.Fatalf("empty proposal: %v, want ErrInvalidName", err)
	}
}
