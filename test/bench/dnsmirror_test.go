package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Shape of the DNS mirror benchmark: hosts with an up key, some task statuses (what the
// mirror's watch sees and drops) and one published task each.
const (
	mirrorHosts        = 2000
	mirrorTasksPerHost = 4
)

// BenchmarkDNSMirror measures the leader's DNS mirror over 2,000 hosts: the full read of
// its first pass (reported as full-pass-ms; read-all-pass-ms is one more such pass, which
// writes nothing) and, per op, a pass that applies one endpoint change from its watch (the
// write of the change included, the wait for the watch too).
func BenchmarkDNSMirror(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cli, e := storetest.NewEtcd(b)
	st := storetest.Open(b, e, store.Config{RequestTimeout: 30 * time.Second})
	k := st.Keys()
	endpoint := func(host string, port int) string {
		v, _ := json.Marshal(model.JobEndpoints{JobID: "web:1:abc", ContainerID: "c-" + host, Endpoints: []model.Endpoint{{
			Service: "website", Proto: "tcp", Name: "_website._tcp.example.local", Host: "10.0.0.1", Port: port,
			JobID: "web:1:abc", PortName: "http"}}})
		return string(v)
	}
	var ops []clientv3.Op
	flush := func() {
		if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			b.Fatal(err)
		}
		ops = ops[:0]
	}
	status, _ := json.Marshal(model.TaskStatus{State: model.StateRunning, Goal: model.GoalStart})
	for h := range mirrorHosts {
		host := fmt.Sprintf("host%04d", h)
		ops = append(ops, clientv3.OpPut(k.Up(host), ""), clientv3.OpPut(k.Endpoint(host, "web:1:abc"), endpoint(host, 20000)))
		for j := range mirrorTasksPerHost {
			ops = append(ops, clientv3.OpPut(k.TaskStatus(host, model.JobID(fmt.Sprintf("job%d:1:abc", j))), string(status)))
		}
		if len(ops) >= 120 {
			flush()
		}
	}
	flush()
	l, err := st.Campaign(ctx, "bench", 30*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	m := st.NewDNSMirror("", 5*time.Second)
	defer m.Close()
	start := time.Now()
	res, err := m.Pass(ctx, l)
	if err != nil || res.Puts != mirrorHosts {
		b.Fatalf("first pass %+v, %v; want %d puts", res, err, mirrorHosts)
	}
	full := time.Since(start)

	b.ResetTimer()
	loop := time.Now()
	for i := 0; i < b.N; i++ {
		host := fmt.Sprintf("host%04d", i%mirrorHosts)
		if _, err := cli.Put(ctx, k.Endpoint(host, "web:1:abc"), endpoint(host, 20001+i)); err != nil {
			b.Fatal(err)
		}
		for written := 0; written == 0; {
			select {
			case <-m.Changed():
			case <-ctx.Done():
				b.Fatal("the watch delivered nothing")
			}
			res, err := m.Pass(ctx, l)
			if err != nil || res.FullRead != "" {
				b.Fatalf("pass %+v, %v; want it fed by the watch", res, err)
			}
			written = res.Puts + res.Deletes
		}
	}
	b.StopTimer()
	perChange := time.Since(loop) / time.Duration(b.N)
	b.ReportMetric(float64(full.Milliseconds()), "full-pass-ms")
	// What every change cost before the mirror was watch-fed: a pass that reads everything.
	start = time.Now()
	if _, err := st.MirrorDNS(ctx, l, "", 5*time.Second); err != nil {
		b.Fatal(err)
	}
	readAll := time.Since(start)
	b.ReportMetric(float64(readAll.Milliseconds()), "read-all-pass-ms")
	record(b,
		row{Name: fmt.Sprintf("DNS mirror, first pass over %d hosts (full read, %d records written)", mirrorHosts, mirrorHosts), Target: metNA, Figure: ms(full), Unit: "ms", Met: metNA},
		row{Name: "… a pass that reads everything, nothing to write (each change before: store.MirrorDNS)", Target: metNA, Figure: ms(readAll), Unit: "ms", Met: metNA},
		row{Name: "… one endpoint change, watch-fed pass (write and watch delay included)", Target: "< the read-all pass", Figure: ms(perChange), Unit: "ms", Met: metIf(perChange < readAll)})
}
