package dns

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
)

// TestCoreDNSServesMirroredRecords checks the record layout against CoreDNS itself: what
// the mirror writes answers `dig SRV _website._tcp.example.test` with each instance's port,
// and the SRV target resolves to its host's address.
func TestCoreDNSServesMirroredRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs CoreDNS (run without -short)")
	}
	coredns := harness.CoreDNS(t)
	cli, e := storetest.NewEtcd(t)
	st := storetest.Open(t, e, store.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dns := harness.StartCoreDNS(t, coredns, "example.test", cli.Endpoints()[0], "/skydns")

	lease, err := cli.Grant(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	for i, host := range []string{"web1", "web2"} {
		reg := st.NewEndpointRegistrar(host, "")
		if err := reg.Attach(ctx, store.LeaseID(lease.ID)); err != nil {
			t.Fatal(err)
		}
		ep := model.Endpoint{Service: "website", Proto: "tcp", Name: "_website._tcp.example.test", Host: "127.0.0." + string(rune('1'+i)),
			Port: 20001 + i, JobID: "site:1:abc", PortName: "http"}
		if err := reg.Publish(ctx, model.JobEndpoints{JobID: "site:1:abc", Endpoints: []model.Endpoint{ep}}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := st.Campaign(ctx, "m1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.MirrorDNS(ctx, l, "", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	r := harness.Resolver(dns)
	_, srvs, err := r.LookupSRV(ctx, "website", "tcp", "example.test")
	if err != nil {
		t.Fatalf("SRV _website._tcp.example.test: %v", err)
	}
	sort.Slice(srvs, func(i, j int) bool { return srvs[i].Port < srvs[j].Port })
	if len(srvs) != 2 || srvs[0].Port != 20001 || srvs[1].Port != 20002 {
		t.Fatalf("SRV answers %+v, want ports 20001 and 20002", srvs)
	}
	addrs, err := r.LookupHost(ctx, srvs[1].Target)
	if err != nil || len(addrs) != 1 || addrs[0] != "127.0.0.2" {
		t.Fatalf("target %s resolves to %v, %v; want 127.0.0.2", srvs[1].Target, addrs, err)
	}
}
