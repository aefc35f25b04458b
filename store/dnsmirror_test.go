package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func website(host string, port int) model.Endpoint {
	return model.Endpoint{Service: "website", Proto: "tcp", Name: "_website._tcp.example.local", Host: host, Port: port,
		Tags: []string{"blue"}, JobID: "web:1:abc", PortName: "http"}
}

// grant is a lease of ttl seconds, as an agent's KeepLeased would hold.
func grant(t *testing.T, cli *clientv3.Client, ttl int64) store.LeaseID {
	t.Helper()
	resp, err := cli.Grant(context.Background(), ttl)
	if err != nil {
		t.Fatalf("grant: %v", err)
	}
	return store.LeaseID(resp.ID)
}

// skydns is every key under /skydns/ with its value.
func skydns(t *testing.T, cli *clientv3.Client) map[string]string {
	t.Helper()
	resp, err := cli.Get(context.Background(), "/skydns/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("list /skydns/: %v", err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		if kv.Lease != 0 {
			t.Errorf("record %s is bound to a lease: records must outlive the masters", kv.Key)
		}
		out[string(kv.Key)] = string(kv.Value)
	}
	return out
}

func TestSkyDNSRecordKeyReversesTheNameUnderThePath(t *testing.T) {
	k := store.SkyDNSRecordKey("skydns/", "web1", website("10.0.0.5", 20001))
	if !strings.HasPrefix(k, "/skydns/local/example/_tcp/_website/h") || len(k) != len("/skydns/local/example/_tcp/_website/h")+16 {
		t.Fatalf("key %q", k)
	}
	if k2 := store.SkyDNSRecordKey("/skydns", "web2", website("10.0.0.5", 20001)); k2 == k {
		t.Fatalf("two hosts share the key %q", k)
	}
	if k3 := store.SkyDNSRecordKey("/skydns", "web1", website("10.0.0.6", 20009)); k3 != k {
		t.Fatalf("the same task's record moved from %q to %q when its port changed", k, k3)
	}
	if got := store.SkyDNSPath(""); got != "/skydns" {
		t.Fatalf("SkyDNSPath(\"\") = %q", got)
	}
}

func TestMirrorWritesARecordPerEndpointAndMaster(t *testing.T) {
	ctx := testCtx(t)
	st, cli, _ := newStore(t, store.Config{})
	reg := st.NewEndpointRegistrar("web1", "/skydns")
	if err := reg.Attach(ctx, grant(t, cli, 30)); err != nil {
		t.Fatal(err)
	}
	if err := reg.Publish(ctx, model.JobEndpoints{JobID: "web:1:abc", ContainerID: "c1", Endpoints: []model.Endpoint{website("10.0.0.5", 20001)}}); err != nil {
		t.Fatal(err)
	}
	dns := &model.Endpoint{Service: "helios", Proto: "http", Name: "_helios._http.example.local", Host: "10.0.0.9", Port: 5801}
	if err := st.PutMaster(ctx, model.MasterInfo{Name: "m1", DNS: dns}, grant(t, cli, 30)); err != nil {
		t.Fatal(err)
	}
	l, err := st.Campaign(ctx, "m1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.MirrorDNS(ctx, l, "/skydns", 5*time.Second)
	if err != nil || res.Puts != 2 || res.Deletes != 0 {
		t.Fatalf("MirrorDNS = %+v, %v; want 2 puts", res, err)
	}
	recs := skydns(t, cli)
	webKey := store.SkyDNSRecordKey("/skydns", "web1", website("10.0.0.5", 20001))
	var rec struct {
		Host   string `json:"host"`
		Port   int    `json:"port"`
		TTL    int    `json:"ttl"`
		Helios struct {
			Root, Source string
			JobID        string `json:"jobId"`
			Tags         []string
		} `json:"helios"`
	}
	if err := json.Unmarshal([]byte(recs[webKey]), &rec); err != nil {
		t.Fatalf("record %s = %q: %v", webKey, recs[webKey], err)
	}
	if rec.Host != "10.0.0.5" || rec.Port != 20001 || rec.TTL != 5 || rec.Helios.Root != "/helios/" || rec.Helios.Source != "web1" ||
		rec.Helios.JobID != "web:1:abc" || len(rec.Helios.Tags) != 1 {
		t.Fatalf("record = %+v", rec)
	}
	masterKey := store.SkyDNSRecordKey("/skydns", store.MasterSource("m1"), *dns)
	if !strings.HasPrefix(masterKey, "/skydns/local/example/_http/_helios/") || !strings.Contains(recs[masterKey], `"host":"10.0.0.9","port":5801`) {
		t.Fatalf("master record %s = %q", masterKey, recs[masterKey])
	}
	// A second pass with nothing changed writes nothing.
	if res, err := st.MirrorDNS(ctx, l, "/skydns", 5*time.Second); err != nil || res.Puts+res.Deletes != 0 {
		t.Fatalf("second MirrorDNS = %+v, %v; want nothing written", res, err)
	}
}

func TestMirrorRemovesTheRecordsOfAnAgentWhoseLeaseIsGoneAndLeavesHandMadeOnes(t *testing.T) {
	ctx := testCtx(t)
	st, cli, _ := newStore(t, store.Config{})
	lease := grant(t, cli, 30)
	reg := st.NewEndpointRegistrar("web1", "")
	_ = reg.Attach(ctx, lease)
	if err := reg.Publish(ctx, model.JobEndpoints{JobID: "web:1:abc", Endpoints: []model.Endpoint{website("10.0.0.5", 20001)}}); err != nil {
		t.Fatal(err)
	}
	handMade := "/skydns/local/example/_tcp/_website/by-hand"
	if _, err := cli.Put(ctx, handMade, `{"host":"10.1.1.1","port":80}`); err != nil {
		t.Fatal(err)
	}
	l, err := st.Campaign(ctx, "m1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.MirrorDNS(ctx, l, "", time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(skydns(t, cli)); n != 2 {
		t.Fatalf("%d records, want the hand-made one and the agent's", n)
	}
	if _, err := cli.Revoke(ctx, clientv3.LeaseID(lease)); err != nil { // the agent is dead
		t.Fatal(err)
	}
	res, err := st.MirrorDNS(ctx, l, "", time.Second)
	if err != nil || res.Deletes != 1 || res.Puts != 0 {
		t.Fatalf("MirrorDNS = %+v, %v; want 1 delete", res, err)
	}
	recs := skydns(t, cli)
	if len(recs) != 1 || recs[handMade] == "" {
		t.Fatalf("records left %v, want only the hand-made one", recs)
	}
}

func TestRecordsStayWhenNoMasterRunsAndADeposedLeaderCannotWrite(t *testing.T) {
	ctx := testCtx(t)
	st, cli, _ := newStore(t, store.Config{})
	lease := grant(t, cli, 30)
	reg := st.NewEndpointRegistrar("web1", "")
	_ = reg.Attach(ctx, lease)
	_ = reg.Publish(ctx, model.JobEndpoints{JobID: "web:1:abc", Endpoints: []model.Endpoint{website("10.0.0.5", 20001)}})
	l, err := st.Campaign(ctx, "m1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.MirrorDNS(ctx, l, "", time.Second); err != nil {
		t.Fatal(err)
	}
	if err := l.Resign(ctx); err != nil { // every master stopped
		t.Fatal(err)
	}
	if _, err := cli.Revoke(ctx, clientv3.LeaseID(lease)); err != nil {
		t.Fatal(err)
	}
	if n := len(skydns(t, cli)); n != 1 {
		t.Fatalf("%d records without a leader, want the 1 mirrored before", n)
	}
	if _, err := st.MirrorDNS(ctx, l, "", time.Second); !errors.Is(err, store.ErrNotLeader) {
		t.Fatalf("MirrorDNS by a deposed leader = %v, want ErrNotLeader", err)
	}
	if n := len(skydns(t, cli)); n != 1 {
		t.Fatalf("%d records after a deposed leader's pass, want 1", n)
	}
}

func TestWithdrawWaitsUntilTheLeaderRemovedTheRecord(t *testing.T) {
	ctx := testCtx(t)
	st, cli, _ := newStore(t, store.Config{})
	reg := st.NewEndpointRegistrar("web1", "")
	_ = reg.Attach(ctx, grant(t, cli, 30))
	je := model.JobEndpoints{JobID: "web:1:abc", ContainerID: "c1", Endpoints: []model.Endpoint{website("10.0.0.5", 20001)}}
	_ = reg.Publish(ctx, je)

	// No leader: the withdrawal says so at once instead of waiting.
	if err := reg.Withdraw(ctx, je.JobID, time.Minute); !errors.Is(err, store.ErrNotDrained) {
		t.Fatalf("Withdraw without a leader = %v, want ErrNotDrained", err)
	}
	if got := reg.Published(); len(got) != 0 {
		t.Fatalf("Published after Withdraw = %v", got)
	}

	l, err := st.Campaign(ctx, "m1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = reg.Publish(ctx, je)
	if _, err := st.MirrorDNS(ctx, l, "", time.Second); err != nil {
		t.Fatal(err)
	}
	// The leader's mirror, driven by its watch as the controller drives it.
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	m := st.NewDNSMirror("", time.Second)
	mirrored := make(chan struct{})
	go func() {
		defer close(mirrored)
		defer m.Close()
		for mctx.Err() == nil {
			_, _ = m.Pass(mctx, l)
			select {
			case <-m.Changed():
			case <-mctx.Done():
			}
		}
	}()
	defer func() { stop(); <-mirrored }()
	if err := reg.Withdraw(ctx, je.JobID, 20*time.Second); err != nil {
		t.Fatalf("Withdraw = %v, want the record gone", err)
	}
	if n := len(skydns(t, cli)); n != 0 {
		t.Fatalf("%d records once Withdraw returned, want none", n)
	}
}

func TestWithdrawGivesUpAfterDrain(t *testing.T) {
	ctx := testCtx(t)
	st, cli, _ := newStore(t, store.Config{})
	reg := st.NewEndpointRegistrar("web1", "")
	_ = reg.Attach(ctx, grant(t, cli, 30))
	je := model.JobEndpoints{JobID: "web:1:abc", Endpoints: []model.Endpoint{website("10.0.0.5", 20001)}}
	_ = reg.Publish(ctx, je)
	l, err := st.Campaign(ctx, "m1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.MirrorDNS(ctx, l, "", time.Second); err != nil {
		t.Fatal(err)
	}
	// A leader that does not mirror: the wait ends with drain.
	if err := reg.Withdraw(ctx, je.JobID, 300*time.Millisecond); !errors.Is(err, store.ErrNotDrained) {
		t.Fatalf("Withdraw = %v, want ErrNotDrained", err)
	}
}

func TestPublishBeforeALeaseIsWrittenByAttach(t *testing.T) {
	ctx := testCtx(t)
	st, cli, _ := newStore(t, store.Config{})
	reg := st.NewEndpointRegistrar("web1", "")
	je := model.JobEndpoints{JobID: "web:1:abc", ContainerID: "c1", Endpoints: []model.Endpoint{website("10.0.0.5", 20001)}}
	if err := reg.Publish(ctx, je); err != nil {
		t.Fatal(err)
	}
	key := st.Keys().Endpoint("web1", je.JobID)
	if resp, _ := cli.Get(ctx, key); len(resp.Kvs) != 0 {
		t.Fatal("endpoints written without a lease")
	}
	lease := grant(t, cli, 30)
	if err := reg.Attach(ctx, lease); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, key)
	if err != nil || len(resp.Kvs) != 1 || resp.Kvs[0].Lease != int64(lease) {
		t.Fatalf("endpoints after Attach: %v %v", resp, err)
	}
	if got := reg.Published(); got[je.JobID] != "c1" {
		t.Fatalf("Published = %v", got)
	}
}

func TestMirrorWritesManyRecordsInSeveralTransactions(t *testing.T) {
	ctx := testCtx(t)
	st, cli, _ := newStore(t, store.Config{})
	reg := st.NewEndpointRegistrar("web1", "")
	_ = reg.Attach(ctx, grant(t, cli, 30))
	je := model.JobEndpoints{JobID: "web:1:abc"}
	for i := range 300 {
		ep := website("10.0.0.5", 20000+i)
		ep.PortName = fmt.Sprintf("p%d", i)
		je.Endpoints = append(je.Endpoints, ep)
	}
	if err := reg.Publish(ctx, je); err != nil {
		t.Fatal(err)
	}
	l, err := st.Campaign(ctx, "m1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := st.MirrorDNS(ctx, l, "", time.Second); err != nil || res.Puts != 300 {
		t.Fatalf("MirrorDNS = %+v, %v; want 300 puts", res, err)
	}
	if n := len(skydns(t, cli)); n != 300 {
		t.Fatalf("%d records, want 300", n)
	}
}
