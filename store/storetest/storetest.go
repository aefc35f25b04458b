package storetest

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// DialTimeout is short so a test against a stopped etcd fails fast.
const DialTimeout = 2 * time.Second

// NewEtcd starts an etcd member in a temporary directory on free loopback ports (fsync
// off) and connects a client to it. Both are closed when the test ends.
func NewEtcd(t testing.TB) (*clientv3.Client, *store.Embedded) {
	t.Helper()
	return newEtcd(t, false)
}

// NewEtcdFsync is NewEtcd with fsync on, as etcd runs in production: for benchmarks.
func NewEtcdFsync(t testing.TB) (*clientv3.Client, *store.Embedded) {
	t.Helper()
	return newEtcd(t, true)
}

func newEtcd(t testing.TB, fsync bool) (*clientv3.Client, *store.Embedded) {
	t.Helper()
	cli, e, err := start(context.Background(), t.TempDir(), fsync)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cli.Close()
		e.Close()
	})
	return cli, e
}

// NewStore is a Store with the default configuration over a fresh etcd.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	_, e := NewEtcd(t)
	return Open(t, e, store.Config{})
}

// Open is a Store configured with cfg over the embedded etcd e, closed when the test ends.
func Open(t testing.TB, e *store.Embedded, cfg store.Config) *store.Store {
	t.Helper()
	return OpenEndpoints(t, e.Endpoints(), cfg)
}

// OpenEndpoints is Open over any etcd endpoints.
func OpenEndpoints(t testing.TB, endpoints []string, cfg store.Config) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.ConnectConfig{Endpoints: endpoints, DialTimeout: DialTimeout}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// OpenAs is Open logged in as an etcd user (etcd authentication on), closed when the test
// ends.
func OpenAs(t testing.TB, e *store.Embedded, user, password string, cfg store.Config) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.ConnectConfig{Endpoints: e.Endpoints(), DialTimeout: DialTimeout, Username: user, Password: password}, cfg)
	if err != nil {
		t.Fatalf("open etcd as %s: %v", user, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// Start is NewEtcd for callers without a testing.TB (a TestMain sharing one etcd among
// tests): the caller closes the client and the member, and removes dir.
func Start(ctx context.Context, dir string) (*clientv3.Client, *store.Embedded, error) {
	return start(ctx, dir, false)
}

func start(ctx context.Context, dir string, fsync bool) (*clientv3.Client, *store.Embedded, error) {
	var (
		e   *store.Embedded
		err error
	)
	// A port found free can be taken before etcd binds it: try again with other ports.
	for range 3 {
		var ports []int
		if ports, err = freePorts(2); err != nil {
			return nil, nil, err
		}
		e, err = store.StartEmbedded(ctx, store.EmbedConfig{
			Name:          "test",
			DataDir:       dir,
			ClientURL:     fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
			PeerURL:       fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
			UnsafeNoFsync: !fsync,
			Logger:        zap.NewNop(), // its shutdown complains about closed listeners
		})
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("start embedded etcd: %w", err)
	}
	// A raw client, for tests that look at etcd itself.
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: DialTimeout, Context: ctx, Logger: zap.NewNop()})
	if err != nil {
		e.Close()
		return nil, nil, fmt.Errorf("connect to embedded etcd: %w", err)
	}
	return cli, e, nil
}

// freePorts finds n distinct free loopback ports by listening on port 0; all listeners
// stay open until every port is known, so the ports differ.
func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}
