package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"go.uber.org/zap"
)

// cluster is a three-member etcd cluster in this process, each member on its own ports and
// data dir, so a test can stop and restart members.
type cluster struct {
	t       *testing.T
	cfgs    []store.EmbedConfig
	members []*store.Embedded
}

func newCluster(t *testing.T, size int) *cluster {
	t.Helper()
	c := &cluster{t: t, members: make([]*store.Embedded, size)}
	var peers []string
	dir := t.TempDir()
	for i := 0; i < size; i++ {
		cfg := store.EmbedConfig{
			Name:          fmt.Sprintf("m%d", i),
			DataDir:       filepath.Join(dir, fmt.Sprintf("m%d", i)),
			ClientURL:     fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
			PeerURL:       fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
			UnsafeNoFsync: true,
			Logger:        zap.NewNop(),
		}
		peers = append(peers, cfg.Name+"="+cfg.PeerURL)
		c.cfgs = append(c.cfgs, cfg)
	}
	for i := range c.cfgs {
		c.cfgs[i].InitialCluster = strings.Join(peers, ",")
	}
	// No member is ready before a quorum has started: start them together.
	var wg sync.WaitGroup
	errs := make([]error, size)
	for i := range c.cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.members[i], errs[i] = store.StartEmbedded(context.Background(), c.cfgs[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
	}
	t.Cleanup(func() {
		for _, m := range c.members {
			if m != nil {
				m.Close()
			}
		}
	})
	return c
}

func (c *cluster) endpoints() []string {
	var eps []string
	for _, cfg := range c.cfgs {
		eps = append(eps, cfg.ClientURL)
	}
	return eps
}

func (c *cluster) stop(i int) { c.members[i].Close() }

func (c *cluster) restart(i int) {
	m, err := store.StartEmbedded(context.Background(), c.cfgs[i])
	if err != nil {
		c.t.Fatalf("restart member %d: %v", i, err)
	}
	c.members[i] = m
}

// TestQuorumLossAndRecovery runs the store against a three-member cluster: losing one
// member changes nothing a user sees, losing a second makes every call fail fast with
// ErrUnavailable (no hang), and bringing one back restores service with nothing lost.
func TestQuorumLossAndRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: starts a three-member etcd cluster (run without -short)")
	}
	c := newCluster(t, 3)
	st := storetest.OpenEndpoints(t, c.endpoints(), store.Config{RequestTimeout: 2 * time.Second})
	ctx := testCtx(t)

	mustNil(t, "register before", st.RegisterHost(ctx, "h1", "id1"))
	c.stop(0)
	// The client may have been talking to the member that died: it moves on by itself.
	eventuallyNil(t, 15*time.Second, "register with one member down", func() error { return st.RegisterHost(ctx, "h2", "id2") })

	c.stop(1)
	start := time.Now()
	err := st.RegisterHost(ctx, "h3", "id3")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write without quorum: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Fatalf("write without quorum took %v to fail, want about the 2s request timeout", d)
	}
	if _, err := st.ListHosts(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("read without quorum: %v, want ErrUnavailable (reads are linearizable)", err)
	}

	c.restart(1)
	eventuallyNil(t, 30*time.Second, "register after quorum is back", func() error { return st.RegisterHost(ctx, "h3", "id3") })
	hosts, err := st.ListHosts(ctx)
	mustNil(t, "list hosts", err)
	if strings.Join(hosts, ",") != "h1,h2,h3" {
		t.Fatalf("hosts after recovery: %v, want h1,h2,h3", hosts)
	}
}

// TestOneDeadEndpointInTheListIsTolerated: a client given a dead endpoint first still works.
func TestOneDeadEndpointInTheListIsTolerated(t *testing.T) {
	_, _, e := newStore(t, store.Config{})
	dead := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	st := storetest.OpenEndpoints(t, append([]string{dead}, e.Endpoints()...), store.Config{RequestTimeout: 3 * time.Second})
	ctx := testCtx(t)
	for i := 0; i < 5; i++ {
		if err := st.RegisterHost(ctx, fmt.Sprintf("h%d", i), "id"); err != nil {
			t.Fatalf("write %d with a dead endpoint listed first: %v", i, err)
		}
	}
}

func eventuallyNil(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRefusedEndpointsFailFast: once every endpoint refuses connections a request fails
// with ErrUnavailable within a second, not after the request timeout; once a member is
// back requests succeed again at once (the probe resets the client's reconnect back-off).
// A member lost from a three-member cluster (the leader among them: an election) fails no
// request, as the connections to the others stay up.
func TestRefusedEndpointsFailFast(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: starts a three-member etcd cluster (run without -short)")
	}
	c := newCluster(t, 3)
	st := storetest.OpenEndpoints(t, c.endpoints(), store.Config{RequestTimeout: 5 * time.Second})
	ctx := testCtx(t)
	mustNil(t, "register before", st.RegisterHost(ctx, "h0", "id"))

	for i := range 2 { // one member, then a second one: quorum lost, every call fails
		c.stop(i)
		if i == 0 {
			for j := range 5 {
				mustNil(t, "register with one member down", st.RegisterHost(ctx, fmt.Sprintf("h%d", j+1), "id"))
			}
		}
	}
	c.stop(2)
	// The client notices the refused connections within a moment; from then on each call
	// fails fast.
	eventuallyNil(t, 15*time.Second, "a fast failure", func() error {
		start := time.Now()
		_, err := st.ListHosts(ctx)
		if d := time.Since(start); !errors.Is(err, store.ErrUnavailable) || d > time.Second {
			return fmt.Errorf("list hosts with every member stopped: %v after %v, want ErrUnavailable within 1s", err, d)
		}
		return nil
	})
	for range 5 {
		start := time.Now()
		_, err := st.ListHosts(ctx)
		if d := time.Since(start); !errors.Is(err, store.ErrUnavailable) || d > time.Second {
			t.Fatalf("list hosts with every member stopped: %v after %v, want ErrUnavailable within 1s", err, d)
		}
	}

	// A member is ready only with a quorum: they start together.
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { c.restart(i) })
	}
	wg.Wait()
	eventuallyNil(t, 30*time.Second, "list hosts once the members are back", func() error {
		_, err := st.ListHosts(ctx)
		return err
	})
	hosts, err := st.ListHosts(ctx)
	mustNil(t, "list hosts", err)
	if len(hosts) != 6 {
		t.Fatalf("hosts after recovery: %v, want h0..h5", hosts)
	}
}
