package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

func TestEmbeddedDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := store.EmbedConfig{
		Name: "restart", DataDir: dir, UnsafeNoFsync: true, Logger: zap.NewNop(),
	}
	cfg.ClientURL, cfg.PeerURL = twoURLs(t)
	ctx := testCtx(t)
	put := func(e *store.Embedded, f func(cli *clientv3.Client)) {
		cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
		mustNil(t, "connect", err)
		defer cli.Close()
		f(cli)
	}
	e, err := store.StartEmbedded(ctx, cfg)
	mustNil(t, "start", err)
	put(e, func(cli *clientv3.Client) {
		_, err := cli.Put(ctx, "/k", "kept")
		mustNil(t, "put", err)
	})
	e.Close()
	e.Close() // idempotent

	e, err = store.StartEmbedded(ctx, cfg)
	mustNil(t, "restart", err)
	defer e.Close()
	put(e, func(cli *clientv3.Client) {
		resp, err := cli.Get(ctx, "/k")
		mustNil(t, "get", err)
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "kept" {
			t.Errorf("after restart /k = %v, want kept", resp.Kvs)
		}
	})
}

func TestStartEmbeddedNeedsDataDir(t *testing.T) {
	if _, err := store.StartEmbedded(context.Background(), store.EmbedConfig{}); err == nil {
		t.Fatal("started without a data directory")
	}
}

// With etcd gone, calls fail with ErrUnavailable within the request deadline (no hang)
// and count as errors in the metrics.
func TestUnavailableEtcdFailsFast(t *testing.T) {
	reg := prometheus.NewRegistry()
	const timeout = time.Second
	s, _, e := newStore(t, store.Config{RequestTimeout: timeout, Registerer: reg})
	ctx := testCtx(t)
	job := newJob(t, "web", "")
	mustNil(t, "create", s.CreateJob(ctx, job))
	e.Close()

	for name, call := range map[string]func() error{
		"get-job":       func() error { _, err := s.GetJob(ctx, job.ID); return err },
		"create-job":    func() error { return s.CreateJob(ctx, newJob(t, "other", "")) },
		"deploy":        func() error { return s.Deploy(ctx, "h1", model.Deployment{JobID: job.ID}, "") },
		"host-statuses": func() error { _, err := s.HostStatuses(ctx, nil); return err },
	} {
		start := time.Now()
		err := call()
		if took := time.Since(start); took > timeout+2*time.Second {
			t.Errorf("%s took %s with etcd down, want about %s", name, took, timeout)
		}
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with etcd down: %v, want ErrUnavailable", name, err)
		}
	}
	if got := counterValue(t, reg, "helios_store_etcd_errors_total", "get-job"); got < 1 {
		t.Errorf("helios_store_etcd_errors_total{op=get-job} = %v, want >= 1", got)
	}

	// A watch on a dead etcd still ends with its context.
	wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	for range s.Poke(wctx, "/x/") {
	}
	if took := time.Since(start); took > timeout+3*time.Second {
		t.Errorf("poke channel closed %s after its context ended", took)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name, op string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	mustNil(t, "gather", err)
	for _, mf := range mfs {
		if mf.GetName() != name {
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

// twoURLs are two loopback URLs on distinct free ports (both listeners open at once).
func twoURLs(t *testing.T) (string, string) {
	t.Helper()
	var urls [2]string
	for i := range urls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		mustNil(t, "listen", err)
		defer l.Close()
		urls[i] = fmt.Sprintf("http://127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)
	}
	return urls[0], urls[1]
}
