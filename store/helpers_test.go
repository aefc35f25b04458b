package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// newStore is a store on a fresh etcd with a short request deadline.
func newStore(t testing.TB, cfg store.Config) (*store.Store, *clientv3.Client, *store.Embedded) {
	t.Helper()
	cli, e := storetest.NewEtcd(t)
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 2 * time.Second
	}
	return storetest.Open(t, e, cfg), cli, e
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// revision is etcd's current revision: unchanged means nothing was written.
func revision(t *testing.T, cli *clientv3.Client) int64 {
	t.Helper()
	resp, err := cli.Get(context.Background(), "/revision-probe")
	if err != nil {
		t.Fatalf("read revision: %v", err)
	}
	return resp.Header.Revision
}

// newJob is a valid job with a computed id; static ports as given ("tcp" protocol).
func newJob(t *testing.T, name, token string, staticPorts ...int) model.Job {
	t.Helper()
	j := model.Job{Image: "busybox:latest", Token: token, Ports: map[string]model.PortMapping{}}
	for i, p := range staticPorts {
		p := p
		j.Ports[string(rune('a'+i))] = model.PortMapping{InternalPort: 80 + i, ExternalPort: &p}
	}
	j.Ports["dynamic"] = model.PortMapping{InternalPort: 9000}
	j, err := model.WithComputedID(name, "1", j)
	if err != nil {
		t.Fatalf("job id: %v", err)
	}
	return j
}

func mustNil(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// keysUnder lists the keys under prefix.
func keysUnder(t *testing.T, cli *clientv3.Client, prefix string) []string {
	t.Helper()
	resp, err := cli.Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatalf("list %s: %v", prefix, err)
	}
	var out []string
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Key))
	}
	return out
}

// exists tells whether key is in etcd.
func exists(t *testing.T, cli *clientv3.Client, key string) bool {
	t.Helper()
	resp, err := cli.Get(context.Background(), key, clientv3.WithCountOnly())
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return resp.Count == 1
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
