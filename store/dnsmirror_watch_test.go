package store_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// mirrorUntil runs passes of m, each after its watch delivered a change, until the records'
// keys are want's; it fails on a pass that read everything (fullOK false) or after 15 s.
func mirrorUntil(t *testing.T, ctx context.Context, m *store.DNSMirror, l *store.Leadership, cli *clientv3.Client, want map[string]string, fullOK bool) []store.MirrorResult {
	t.Helper()
	deadline := time.After(15 * time.Second)
	var passes []store.MirrorResult
	for !sameKeys(skydns(t, cli), want) {
		select {
		case <-m.Changed():
		case <-deadline:
			t.Fatalf("records after %d passes %+v:\n%v\nwant:\n%v", len(passes), passes, skydns(t, cli), want)
		}
		res, err := m.Pass(ctx, l)
		if err != nil {
			t.Fatalf("pass: %v", err)
		}
		if res.FullRead != "" && !fullOK {
			t.Fatalf("pass %+v read everything; want it fed by the watch", res)
		}
		passes = append(passes, res)
	}
	return passes
}

// published is what publishing je from host makes the mirror write.
func published(host string, je model.JobEndpoints) map[string]string {
	out := map[string]string{}
	for _, ep := range je.Endpoints {
		out[store.SkyDNSRecordKey("", host, ep)] = ""
	}
	return out
}

func sameKeys(got map[string]string, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			return false
		}
	}
	return true
}

func TestDNSMirrorFollowsEndpointChangesWithoutReadingEverything(t *testing.T) {
	ctx := testCtx(t)
	reg := prometheus.NewRegistry()
	st, cli, _ := newStore(t, store.Config{Registerer: reg})
	web1, web2 := st.NewEndpointRegistrar("web1", ""), st.NewEndpointRegistrar("web2", "")
	for _, r := range []*store.EndpointRegistrar{web1, web2} {
		if err := r.Attach(ctx, grant(t, cli, 30)); err != nil {
			t.Fatal(err)
		}
	}
	je1 := model.JobEndpoints{JobID: "web:1:abc", ContainerID: "c1", Endpoints: []model.Endpoint{website("10.0.0.5", 20001)}}
	if err := web1.Publish(ctx, je1); err != nil {
		t.Fatal(err)
	}
	l, err := st.Campaign(ctx, "m1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := st.NewDNSMirror("", time.Second)
	defer m.Close()
	if res, err := m.Pass(ctx, l); err != nil || res.Puts != 1 || res.FullRead != store.FullReadStart {
		t.Fatalf("first pass = %+v, %v; want 1 put after reading everything", res, err)
	}
	fullReads := etcdRequests(t, reg, "list-endpoint-keys")
	if fullReads != 1 {
		t.Fatalf("list-endpoint-keys calls after the first pass: %d, want 1", fullReads)
	}

	// A second host publishes, a task status is written (not an endpoint: no record), the
	// first host withdraws: each followed from the watch alone.
	je2 := model.JobEndpoints{JobID: "web:1:abc", ContainerID: "c2", Endpoints: []model.Endpoint{website("10.0.0.6", 20002)}}
	if err := web2.Publish(ctx, je2); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, st.Keys().TaskStatus("web1", je1.JobID), `{"state":"RUNNING"}`); err != nil {
		t.Fatal(err)
	}
	mirrorUntil(t, ctx, m, l, cli, merge(published("web1", je1), published("web2", je2)), false)
	if err := web1.Withdraw(ctx, je1.JobID, 0); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	mirrorUntil(t, ctx, m, l, cli, published("web2", je2), false)
	if n := etcdRequests(t, reg, "list-endpoint-keys") + etcdRequests(t, reg, "list-endpoints") + etcdRequests(t, reg, "list-skydns"); n != 3 {
		t.Fatalf("%d full-read requests in all, want the first pass's 3 (hosts, endpoints, records)", n)
	}

	// Resync reads everything again, and finds nothing to write.
	m.Resync()
	if res, err := m.Pass(ctx, l); err != nil || res.FullRead != store.FullReadInterval || res.Puts+res.Deletes != 0 {
		t.Fatalf("resync pass = %+v, %v; want a full read that writes nothing", res, err)
	}
	if n := etcdRequests(t, reg, "list-endpoint-keys"); n != 2 {
		t.Fatalf("list-endpoint-keys calls after Resync: %d, want 2", n)
	}
}

func merge(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

func TestDNSMirrorReadsEverythingAgainWhenItsWatchMeetsCompaction(t *testing.T) {
	ctx := testCtx(t)
	st, cli, _ := newStore(t, store.Config{})
	reg := st.NewEndpointRegistrar("web1", "")
	if err := reg.Attach(ctx, grant(t, cli, 30)); err != nil {
		t.Fatal(err)
	}
	l, err := st.Campaign(ctx, "m1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := st.NewDNSMirror("", time.Second)
	defer m.Close()
	if _, err := m.Pass(ctx, l); err != nil {
		t.Fatal(err)
	}
	behind := revision(t, cli)
	je := model.JobEndpoints{JobID: "web:1:abc", ContainerID: "c1", Endpoints: []model.Endpoint{website("10.0.0.5", 20001)}}
	if err := reg.Publish(ctx, je); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "/unrelated", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, revision(t, cli)); err != nil {
		t.Fatal(err)
	}
	// Drain what the running watch delivered, then put the watch where compaction took
	// the revisions it still had to read.
	m.WatchFrom(ctx, behind)
	select {
	case <-m.Changed():
	case <-time.After(15 * time.Second):
		t.Fatal("the watch did not report its compaction")
	}
	for {
		res, err := m.Pass(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		if res.FullRead == store.FullReadCompacted {
			break
		}
		select {
		case <-m.Changed():
		case <-time.After(15 * time.Second):
			t.Fatalf("no pass read everything after the compaction (last %+v)", res)
		}
	}
	if got := skydns(t, cli); !sameKeys(got, published("web1", je)) {
		t.Fatalf("records after the full read %v: want web1's", got)
	}
	// and it follows again from there.
	if err := reg.Withdraw(ctx, je.JobID, 0); err != nil {
		t.Fatal(err)
	}
	mirrorUntil(t, ctx, m, l, cli, map[string]string{}, false)
}
