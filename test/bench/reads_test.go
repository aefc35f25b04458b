package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-go/helios/cli"
	"github.com/helios-go/helios/controller/api"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
)

// Targets of issue 12 for the master's reads.
const (
	readsJobs        = 10_000
	readsHosts       = 100
	cliTarget        = 500 * time.Millisecond
	writeClients     = 50
	writesPerClient  = 20
	writeP99Target   = 50 * time.Millisecond
	masterMemTarget  = 200 << 20
	bigJobEnvBytes   = 10 << 10
	cliRunsForMedian = 5
)

// BenchmarkMasterReads measures the master's API on one embedded etcd with fsync on:
// `helios jobs` and `helios status` (the CLI's own code) over 10,000 deployed jobs, 50
// concurrent clients creating and deploying, and the master's heap while 10,000 jobs of
// 10 KB are listed.
func BenchmarkMasterReads(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchMasterReads(b)
	}
}

func benchMasterReads(b *testing.B) {
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, e := storetest.NewEtcdFsync(b)
	st := storetest.Open(b, e, store.Config{RequestTimeout: 30 * time.Second})
	h, err := api.New(api.Config{Store: st, MasterName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	hosts := make([]string, readsHosts)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("host%03d", i)
		if err := st.RegisterHost(ctx, hosts[i], "id"); err != nil {
			b.Fatal(err)
		}
	}
	fill(b, readsJobs, func(i int) error {
		job, err := model.WithComputedID(fmt.Sprintf("small%05d", i), "1", model.Job{Image: "busybox:latest", Command: []string{"sleep", "1d"}})
		if err != nil {
			return err
		}
		host := hosts[i%len(hosts)]
		if err := st.CreateJob(ctx, job); err != nil {
			return err
		}
		if err := st.Deploy(ctx, host, model.Deployment{JobID: job.ID}, ""); err != nil {
			return err
		}
		return st.SetTaskStatus(ctx, host, job.ID, model.TaskStatus{Job: &job, Goal: model.GoalStart, State: model.StateRunning, ContainerID: fmt.Sprintf("%064d", i)}, false)
	})

	// HELIOS_BENCH_CPUPROFILE=file profiles the CLI phase alone (`go tool pprof file`).
	if path := os.Getenv("HELIOS_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer f.Close()
	}
	for _, cmd := range [][]string{{"jobs"}, {"status"}} {
		var times []time.Duration
		var out bytes.Buffer
		for range cliRunsForMedian {
			out.Reset()
			start := time.Now()
			code := cli.Run(ctx, append([]string{"-z", srv.URL}, cmd...), strings.NewReader(""), &out, io.Discard, func(string) string { return "" })
			times = append(times, time.Since(start))
			if code != 0 {
				b.Fatalf("helios %s: exit %d", cmd[0], code)
			}
		}
		if rows := strings.Count(out.String(), "\n") - 1; rows != readsJobs {
			b.Fatalf("helios %s printed %d rows, want %d", cmd[0], rows, readsJobs)
		}
		med := median(times)
		report(b, "helios "+cmd[0]+" over 10,000 jobs (median of 5)", med, cliTarget, med <= cliTarget)
		record(b, msRow(fmt.Sprintf("helios %s over %d jobs (median of %d)", cmd[0], readsJobs, cliRunsForMedian), med, cliTarget, med <= cliTarget))
		b.ReportMetric(float64(med.Milliseconds()), "ms-helios-"+cmd[0])
	}

	pprof.StopCPUProfile() // a no-op when not profiling
	// HELIOS_BENCH_CPUPROFILE_WRITES=file profiles the 50 writing clients alone.
	if path := os.Getenv("HELIOS_BENCH_CPUPROFILE_WRITES"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
	}
	p50, p99, errs := concurrentWrites(ctx, b, srv.URL, hosts)
	pprof.StopCPUProfile()
	report(b, fmt.Sprintf("%d clients creating and deploying: p50 %s, p99", writeClients, p50), p99, writeP99Target, p99 <= writeP99Target && errs == 0)
	b.Logf("%d clients creating and deploying: %d errors (target 0)", writeClients, errs)
	b.ReportMetric(float64(p99.Microseconds())/1000, "ms-p99-write")
	b.ReportMetric(float64(errs), "write-errors")
	record(b,
		msRow(fmt.Sprintf("%d clients creating and deploying, p99 (fsync on)", writeClients), p99, writeP99Target, p99 <= writeP99Target),
		row{Name: "… p50", Target: metNA, Figure: ms(p50), Unit: "ms", Met: metNA},
		row{Name: "… errors", Target: "0", Figure: float64(errs), Unit: "errors", Met: metIf(errs == 0)},
	)

	// 10,000 jobs of about 10 KB on top, as in the memory figure.
	pad := strings.Repeat("x", bigJobEnvBytes)
	fill(b, readsJobs, func(i int) error {
		job, err := model.WithComputedID(fmt.Sprintf("big%05d", i), "1", model.Job{Image: "busybox:latest", Env: map[string]string{"PAD": pad}})
		if err != nil {
			return err
		}
		return st.CreateJob(ctx, job)
	})
	paged := func() error {
		token := ""
		for {
			url := srv.URL + "/jobs?limit=1000"
			if token != "" {
				url += "&continue=" + token
			}
			resp, err := http.Get(url)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %d %v", url, resp.StatusCode, err)
			}
			if token = resp.Header.Get(model.HeaderContinue); token == "" {
				return nil
			}
		}
	}
	unpaged := func() error {
		resp, err := http.Get(srv.URL + "/jobs")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err == nil && n < readsJobs*bigJobEnvBytes {
			err = fmt.Errorf("GET /jobs answered %d bytes only", n)
		}
		return err
	}
	materialised := func() error { // what GET /jobs did before it streamed
		jobs, err := st.ListJobs(ctx)
		if err != nil {
			return err
		}
		_, err = json.Marshal(jobs)
		return err
	}
	for _, m := range []struct {
		name string
		fn   func() error
		row  bool
	}{
		{"paged GET /jobs?limit=1000, all pages", paged, true},
		{"unpaged GET /jobs (streamed)", unpaged, true},
		{"before: the whole list in memory, then encoded", materialised, false},
	} {
		peak, err := peakHeapGrowth(m.fn)
		if err != nil {
			b.Fatalf("%s: %v", m.name, err)
		}
		if m.row {
			record(b, row{Name: "master heap growth (in-process), " + m.name + ", 20,000 jobs", Target: fmt.Sprintf("≤ %d MB", masterMemTarget>>20), Figure: float64(peak >> 20), Unit: "MB", Met: metIf(peak <= masterMemTarget)})
			b.Logf("master heap growth, %s, 20,000 jobs (10,000 of 10 KB): %d MB (target ≤ %d MB: %s)", m.name, peak>>20, masterMemTarget>>20, metWord(peak <= masterMemTarget))
		} else {
			b.Logf("for comparison, %s: %d MB", m.name, peak>>20)
		}
		b.ReportMetric(float64(peak>>20), "MB-heap-"+strings.Fields(m.name)[0])
	}
}

// fill runs make(i) for i in [0, n) on 16 workers and fails on the first error.
func fill(b *testing.B, n int, make func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var first atomic.Value
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := make(i); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		b.Fatal(err)
	}
}

// concurrentWrites has writeClients clients each create writesPerClient jobs and deploy
// each one, over HTTP; it returns the latencies' p50 and p99 and the number of failures.
func concurrentWrites(ctx context.Context, b *testing.B, base string, hosts []string) (p50, p99 time.Duration, errs int) {
	b.Helper()
	var mu sync.Mutex
	var lat []time.Duration
	var failed atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: writeClients}, Timeout: 30 * time.Second}
	send := func(method, url string, body any) {
		data, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(data))
		if err != nil {
			failed.Add(1)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		took := time.Since(start)
		if err != nil {
			failed.Add(1)
			return
		}
		var ans struct{ Status string }
		_ = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || ans.Status != model.StatusOK {
			failed.Add(1)
		}
		mu.Lock()
		lat = append(lat, took)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for c := range writeClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := hosts[c%len(hosts)]
			for i := range writesPerClient {
				job, err := model.WithComputedID(fmt.Sprintf("client%02d-%02d", c, i), "1", model.Job{Image: "busybox:latest"})
				if err != nil {
					failed.Add(1)
					continue
				}
				send(http.MethodPost, base+"/jobs", job)
				send(http.MethodPut, base+"/hosts/"+host+"/jobs/"+string(job.ID), model.Deployment{JobID: job.ID, Goal: model.GoalStart})
			}
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100], int(failed.Load())
}

// peakHeapGrowth runs fn and returns the largest HeapInuse seen while it ran, above the
// level after a collection before it. etcd runs in this process too: its share of serving
// the reads is counted, its steady state is not.
func peakHeapGrowth(fn func() error) (uint64, error) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
				peak.Store(ms.HeapInuse - base)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	err := fn()
	close(done)
	<-sampled
	return peak.Load(), err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func metWord(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

func report(b *testing.B, what string, got, target time.Duration, met bool) {
	b.Helper()
	b.Logf("%s: %s (target ≤ %s: %s)", what, got.Round(time.Millisecond), target, metWord(met))
}
