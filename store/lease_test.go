package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestKeepLeasedReattachesAfterRevoke(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	leases := make(chan store.LeaseID, 10)
	done := make(chan error, 1)
	go func() {
		done <- s.KeepLeased(ctx, time.Second, nil, func(ctx context.Context, l store.LeaseID) error {
			if err := s.PutUp(ctx, "h1", l); err != nil {
				return err
			}
			leases <- l
			return nil
		})
	}()
	first := recv(t, leases, "first attach")
	if !exists(t, cli, s.Keys().Up("h1")) {
		t.Fatal("up key missing after attach")
	}
	// Outlive the TTL: the session must keep the lease alive.
	time.Sleep(1500 * time.Millisecond)
	if !exists(t, cli, s.Keys().Up("h1")) {
		t.Fatal("up key expired although the lease is kept alive")
	}

	_, err := cli.Revoke(ctx, clientv3.LeaseID(first))
	mustNil(t, "revoke", err)
	second := recv(t, leases, "attach after revoke")
	if second == first {
		t.Fatalf("re-attached to the revoked lease %x", first)
	}
	eventually(t, 5*time.Second, "up key back", func() bool { return exists(t, cli, s.Keys().Up("h1")) })

	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("KeepLeased returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("KeepLeased did not return after ctx was canceled")
	}
	// Revoked on the way out: the up key goes at once, not after the TTL.
	if exists(t, cli, s.Keys().Up("h1")) {
		t.Error("up key outlived KeepLeased")
	}
}
