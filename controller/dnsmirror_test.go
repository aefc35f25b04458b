package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// runMirror runs the leader's DNS mirror loop over a fresh etcd, with one agent web1
// attached to a lease, and returns its metrics.
func runMirror(t *testing.T, resync time.Duration) (*clientv3.Client, *store.EndpointRegistrar, *dnsMetrics) {
	t.Helper()
	cli, e := storetest.NewEtcd(t)
	st := storetest.Open(t, e, store.Config{RequestTimeout: 2 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	l, err := st.Campaign(ctx, "m1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := newDNSMetrics(prometheus.NewRegistry())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mirrorDNS(st, DNSConfig{TTL: time.Second, ResyncInterval: resync}, zap.NewNop(), m)(ctx, l)
	}()
	t.Cleanup(func() { cancel(); <-done })
	lease, err := cli.Grant(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	reg := st.NewEndpointRegistrar("web1", "")
	if err := reg.Attach(ctx, store.LeaseID(lease.ID)); err != nil {
		t.Fatal(err)
	}
	return cli, reg, m
}

// records is the number of keys under /skydns/.
func records(t *testing.T, cli *clientv3.Client) int {
	t.Helper()
	resp, err := cli.Get(context.Background(), "/skydns/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return int(resp.Count)
}

func countIs(c prometheus.Collector, want float64) func() error {
	return func() error {
		if got := testutil.ToFloat64(c); got != want {
			return fmt.Errorf("%v, want %v", got, want)
		}
		return nil
	}
}

var webEndpoints = model.JobEndpoints{JobID: "web:1:abc", ContainerID: "c1", Endpoints: []model.Endpoint{{
	Service: "website", Proto: "tcp", Name: "_website._tcp.example.local", Host: "10.0.0.5", Port: 20001, JobID: "web:1:abc", PortName: "http"}}}

func TestDNSMirrorLoopFollowsTheWatchWithoutReadingEverything(t *testing.T) {
	cli, reg, m := runMirror(t, time.Hour)
	start := m.fullReads.WithLabelValues(store.FullReadStart)
	eventually(t, 10*time.Second, countIs(start, 1))
	ctx := context.Background()
	if err := reg.Publish(ctx, webEndpoints); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if n := records(t, cli); n != 1 {
			return fmt.Errorf("%d records, want 1", n)
		}
		return nil
	})
	if err := reg.Withdraw(ctx, webEndpoints.JobID, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if n := records(t, cli); n != 0 {
			return fmt.Errorf("%d records, want none", n)
		}
		return nil
	})
	eventually(t, 10*time.Second, countIs(m.writes.WithLabelValues(mirrorOK), 2))
	for _, r := range store.FullReadReasons() {
		want := 0.0
		if r == store.FullReadStart {
			want = 1
		}
		if got := testutil.ToFloat64(m.fullReads.WithLabelValues(r)); got != want {
			t.Errorf("full reads{reason=%q} = %v, want %v: the changes should come from the watch", r, got, want)
		}
	}
}

func TestDNSMirrorLoopResyncsAndRestoresARecordDeletedByHand(t *testing.T) {
	cli, reg, m := runMirror(t, 100*time.Millisecond)
	if err := reg.Publish(context.Background(), webEndpoints); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if n := records(t, cli); n != 1 {
			return fmt.Errorf("%d records, want 1", n)
		}
		return nil
	})
	// A deletion by hand is no endpoint change: only a full read sees it.
	if _, err := cli.Delete(context.Background(), "/skydns/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	before := testutil.ToFloat64(m.fullReads.WithLabelValues(store.FullReadInterval))
	eventually(t, 10*time.Second, func() error {
		if n := records(t, cli); n != 1 {
			return fmt.Errorf("%d records, want the resync to restore 1", n)
		}
		return nil
	})
	if after := testutil.ToFloat64(m.fullReads.WithLabelValues(store.FullReadInterval)); after <= before {
		t.Fatalf("full reads{reason=interval} %v, then %v: want the resync to have read everything", before, after)
	}
}
