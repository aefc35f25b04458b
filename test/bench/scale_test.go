package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-go/helios/controller/api"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
	"github.com/prometheus/client_golang/prometheus"
)

// Targets of issue 12 for the control plane at scale.
const (
	scaleHosts         = 1000
	scaleJobsPerHost   = 10
	scaleClients       = 50
	scaleRunningTarget = 10 * time.Second
	scaleWritesTarget  = 4.0
	idleWindow         = 30 * time.Second
)

// BenchmarkScale runs 1,000 hollow agents (default lease TTL and resync interval) and an
// in-process master API on one embedded etcd with fsync on. 10 jobs are created, then 50
// concurrent clients deploy each of them to every host over HTTP (10,000
// `PUT /hosts/{h}/jobs/{id}`), and the clock runs until all 10,000 tasks are RUNNING. The
// agents' etcd requests are counted, by store operation, over that window (writes and range
// reads per deployment); then, idle, the etcd server's requests by kind over 30 s.
// HELIOS_BENCH_CPUPROFILE_SCALE=file writes a CPU profile of the deploy window.
func BenchmarkScale(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchScale(b)
	}
}

func benchScale(b *testing.B) {
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, e := storetest.NewEtcdFsync(b)
	master := storetest.Open(b, e, store.Config{RequestTimeout: 30 * time.Second})
	// The agents share one store (one etcd client), which counts their requests.
	reg := prometheus.NewRegistry()
	agents := storetest.Open(b, e, store.Config{RequestTimeout: 30 * time.Second, Registerer: reg})
	h, err := api.New(api.Config{Store: master, MasterName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	stateRoot, where := tmpfsDir(b)
	hosts := make([]string, scaleHosts)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("hollow%04d", i)
		harness.StartHollow(b, harness.Hollow{Name: hosts[i], Store: agents, LeaseTTL: 10 * time.Second, ResyncInterval: 30 * time.Second, StateDirRoot: stateRoot})
	}
	progress("scale: %d hollow agents started (state dirs in %s), waiting until all are UP", scaleHosts, where)
	b.Logf("hollow agents' state dirs: %s (%s)", where, stateRoot)
	waitFor(b, 5*time.Minute, "all hosts up", func() (bool, error) {
		all, err := master.HostStatuses(ctx, nil)
		up := 0
		for _, hs := range all {
			if hs.Status == model.HostUp {
				up++
			}
		}
		return up == scaleHosts, err
	})
	jobs := make([]model.JobID, scaleJobsPerHost)
	for i := range jobs {
		job, err := model.WithComputedID(fmt.Sprintf("scale%d", i), "1", model.Job{Image: "busybox:latest", Command: []string{"sleep", "1d"}})
		if err != nil {
			b.Fatal(err)
		}
		if err := master.CreateJob(ctx, job); err != nil {
			b.Fatal(err)
		}
		jobs[i] = job.ID
	}
	if path := os.Getenv("HELIOS_BENCH_CPUPROFILE_SCALE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
	}
	before := storeRequests(b, reg)
	progress("scale: all UP; deploying %d × %d over HTTP", scaleHosts, len(jobs))
	b.StartTimer()
	start := time.Now()
	submitted, errs, firstErr := deployAll(ctx, srv.URL, hosts, jobs)
	deployed := time.Since(start)
	progress("scale: %d deployments accepted, %d errors, in %v", submitted, errs, deployed)
	if submitted != scaleHosts*len(jobs) {
		b.Fatalf("%d of %d deployments accepted; first error: %s", submitted, scaleHosts*len(jobs), firstErr)
	}
	last := time.Now()
	waitFor(b, 5*time.Minute, "all RUNNING", func() (bool, error) {
		n, err := countRunning(ctx, master, jobs)
		if time.Since(last) > 5*time.Second {
			progress("scale: %d RUNNING", n)
			last = time.Now()
		}
		return n == scaleHosts*len(jobs), err
	})
	converged := time.Since(start)
	b.StopTimer()
	pprof.StopCPUProfile()
	after := storeRequests(b, reg)

	n := float64(submitted)
	writes, reads, resyncReads, detail := splitRequests(before, after)
	b.Logf("agents' etcd requests for %d deployments until RUNNING: %s", submitted, detail)
	// Every history event is kept, in order, on every host.
	for _, id := range jobs {
		evs, err := master.History(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		per := map[string][]string{}
		for _, ev := range evs {
			per[ev.Host] = append(per[ev.Host], string(ev.Status.State))
		}
		for _, host := range hosts {
			if got := strings.Join(per[host], ","); got != "CREATING,STARTING,RUNNING" {
				b.Fatalf("history of %s on %s = %s, want CREATING,STARTING,RUNNING", id, host, got)
			}
		}
	}
	record(b,
		row{Name: fmt.Sprintf("%d hollow agents × %d jobs: all RUNNING after (%d clients over HTTP, fsync on, state dirs on %s)", scaleHosts, len(jobs), scaleClients, where),
			Target: fmt.Sprintf("≤ %g s", scaleRunningTarget.Seconds()), Figure: round(converged.Seconds(), 2), Unit: "s", Met: metIf(converged <= scaleRunningTarget)},
		row{Name: "… deployments submitted", Target: metNA, Figure: round(deployed.Seconds(), 2), Unit: "s", Met: metNA},
		row{Name: "… deploy request errors", Target: "0", Figure: float64(errs), Unit: "errors", Met: metIf(errs == 0)},
		row{Name: "… agents' etcd writes per deployment until RUNNING", Target: fmt.Sprintf("≤ %g", scaleWritesTarget), Figure: round(float64(writes)/n, 2), Unit: "writes", Met: metIf(float64(writes)/n <= scaleWritesTarget)},
		row{Name: "… agents' etcd range reads per deployment until RUNNING (hot path)", Target: "0", Figure: round(float64(reads)/n, 3), Unit: "reads", Met: metIf(reads == 0)},
		row{Name: "… agents' resync requests in that time (each agent every 30 s, not per deployment)", Target: metNA, Figure: float64(resyncReads), Unit: "requests", Met: metNA},
	)

	progress("scale: all RUNNING after %v; idle for %v", converged, idleWindow)
	// Idle: nothing is deployed; what reaches etcd is the agents' keep-alives and resyncs.
	srvBefore, err := etcdServerRequests()
	if err != nil {
		b.Fatal(err)
	}
	idleBefore := storeRequests(b, reg)
	time.Sleep(idleWindow) // the measurement window itself, not a synchronisation
	srvAfter, err := etcdServerRequests()
	if err != nil {
		b.Fatal(err)
	}
	idleWrites, idleReads, idleResync, idleDetail := splitRequests(idleBefore, storeRequests(b, reg))
	b.Logf("idle %v, agents' store requests: %s", idleWindow, idleDetail)
	var kinds []string
	for k, v := range srvAfter {
		if d := v - srvBefore[k]; d > 0 {
			kinds = append(kinds, fmt.Sprintf("%s=%.1f/s", k, float64(d)/idleWindow.Seconds()))
		}
	}
	sort.Strings(kinds)
	b.Logf("idle %v, etcd server requests by method: %s", idleWindow, strings.Join(kinds, " "))
	per := func(k string) float64 { return round(float64(srvAfter[k]-srvBefore[k])/idleWindow.Seconds(), 1) }
	record(b,
		row{Name: fmt.Sprintf("idle, %d agents: lease keep-alives (etcd server)", scaleHosts), Target: metNA, Figure: per("LeaseKeepAlive"), Unit: "req/s", Met: metNA},
		row{Name: "idle: range requests (etcd server)", Target: metNA, Figure: per("Range"), Unit: "req/s", Met: metNA},
		row{Name: "idle: transactions (etcd server; resync reads are read-only txns)", Target: metNA, Figure: per("Txn"), Unit: "req/s", Met: metNA},
		row{Name: "idle: puts (etcd server)", Target: metNA, Figure: per("Put"), Unit: "req/s", Met: metNA},
		row{Name: "idle: agents' resync requests (host id, host info, deployments, generation, task statuses, history trim)", Target: metNA, Figure: round(float64(idleResync)/idleWindow.Seconds(), 1), Unit: "req/s", Met: metNA},
		row{Name: "idle: agents' other requests (none expected)", Target: "0", Figure: round(float64(idleReads+idleWrites)/idleWindow.Seconds(), 1), Unit: "req/s", Met: metIf(idleReads+idleWrites == 0)},
	)
}

// deployAll has scaleClients clients deploy every job to every host over HTTP; it returns
// how many deployments were accepted and how many requests failed.
func deployAll(ctx context.Context, base string, hosts []string, jobs []model.JobID) (ok, failed int, firstErr string) {
	var first sync.Once
	fail := func(format string, args ...any) {
		first.Do(func() { firstErr = fmt.Sprintf(format, args...) })
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: scaleClients}, Timeout: time.Minute}
	total := len(hosts) * len(jobs)
	var next, good, bad atomic.Int64
	var wg sync.WaitGroup
	for range scaleClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < total; i = int(next.Add(1) - 1) {
				// Host-major order: the hosts fill evenly, as when many users deploy at once.
				host, id := hosts[i%len(hosts)], jobs[i/len(hosts)]
				body, _ := json.Marshal(model.Deployment{JobID: id, Goal: model.GoalStart})
				req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/hosts/"+host+"/jobs/"+string(id), bytes.NewReader(body))
				if err != nil {
					bad.Add(1)
					fail("%v", err)
					continue
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					bad.Add(1)
					fail("%v", err)
					continue
				}
				var ans struct{ Status, Message string }
				_ = json.NewDecoder(resp.Body).Decode(&ans)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || ans.Status != model.StatusOK {
					bad.Add(1)
					fail("PUT %s: %d %s %s", req.URL.Path, resp.StatusCode, ans.Status, ans.Message)
					continue
				}
				good.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(good.Load()), int(bad.Load()), firstErr
}

// countRunning counts the RUNNING tasks of jobs.
func countRunning(ctx context.Context, st *store.Store, jobs []model.JobID) (int, error) {
	all, err := st.JobStatuses(ctx, jobs)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, js := range all {
		for _, ts := range js.TaskStatuses {
			if ts.State == model.StateRunning {
				n++
			}
		}
	}
	return n, nil
}

// storeRequests counts a store's etcd requests by operation, from its request-duration
// histogram (one sample per request).
func storeRequests(b *testing.B, g prometheus.Gatherer) map[string]uint64 {
	b.Helper()
	out, err := counts(g, "helios_store_etcd_request_duration_seconds", "op", func(m metricSample) uint64 { return m.hist })
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// etcdServerRequests counts the requests the in-process etcd server received, by gRPC
// method (Range, Txn, Put, LeaseKeepAlive: one per keep-alive message on the stream).
func etcdServerRequests() (map[string]uint64, error) {
	return counts(prometheus.DefaultGatherer, "grpc_server_msg_received_total", "grpc_method", func(m metricSample) uint64 { return m.counter })
}

type metricSample struct{ hist, counter uint64 }

func counts(g prometheus.Gatherer, name, label string, value func(metricSample) uint64) (map[string]uint64, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather metrics: %w", err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			s := metricSample{hist: m.GetHistogram().GetSampleCount(), counter: uint64(m.GetCounter().GetValue())}
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] += value(s)
				}
			}
		}
	}
	return out, nil
}

func sameCounts(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// storeReadOps are the store operations that are etcd range reads (or read-only
// transactions); every other operation writes. resyncOps are the requests an agent makes
// only at resync (every --resync-interval): checking its host is still registered,
// refreshing its host info (load average, free memory: written when they moved), listing its
// deployments again with their generation (the snapshot-restore guard), comparing its task statuses with etcd, trimming histories. They are
// counted apart from the hot path.
var (
	storeReadOps = map[string]bool{
		"get-job": true, "watch-list": true, "host-id": true, "cluster-uid": true, "cluster-id": true, "host-status": true,
		"job-status": true, "job-statuses": true, "history": true, "lease-id": true, "ttl-seconds": true,
		"deployed-jobs": true, "host-labels": true, "host-facts": true, "get-task-events": true,
		"host-generation": true,
	}
	resyncOps = map[string]bool{"host-deployments": true, "host-generation": true, "trim-history": true, "task-statuses": true, "host-id": true, "put-host-info": true}
)

// splitRequests is the difference between two counts: writes and reads on the hot path,
// resync requests and a listing by operation.
func splitRequests(before, after map[string]uint64) (writes, reads, resync uint64, detail string) {
	var lines []string
	for op, c := range after {
		d := c - before[op]
		if d == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s=%d", op, d))
		switch {
		case resyncOps[op]:
			resync += d
		case storeReadOps[op]:
			reads += d
		default:
			writes += d
		}
	}
	sort.Strings(lines)
	return writes, reads, resync, strings.Join(lines, " ")
}

// progress tells the person waiting at `make bench` where a long benchmark is: a
// benchmark's own log is printed only when it ends.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func round(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// tmpfsDir returns a directory for the hollow agents' state dirs, removed when the benchmark
// ends, and says where it is. Real agents each write their own host's disk; 1,000 of them
// writing one disk would measure that disk, not the control plane, so the state dirs go on
// /dev/shm (a tmpfs) when the machine has it, else in the test's temp dir.
func tmpfsDir(b *testing.B) (dir, where string) {
	b.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "helios-bench-scale-")
		if err == nil {
			b.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir, "tmpfs /dev/shm"
		}
		b.Logf("no state dirs on /dev/shm: %v", err)
	}
	dir = b.TempDir()
	return dir, "the temp dir (no /dev/shm)"
}
