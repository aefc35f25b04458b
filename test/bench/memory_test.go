package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
	"github.com/helios-go/helios/test/testimage"
)

// Targets of issue 12 for memory.
const (
	agentRSSTarget   = 40 << 20
	masterRSSTarget  = 200 << 20
	memContainers    = 10
	memJobs          = 10_000
	memHosts         = 100
	memCLIRuns       = 3
	rssSampleEvery   = 10 * time.Millisecond
	memBenchDeadline = 10 * time.Minute
)

// BenchmarkMemory measures resident memory of real processes (/proc/<pid>/status):
//   - a helios-agent on the local Docker engine running 10 containers;
//   - a helios-master serving `helios jobs` and `helios status` (the CLI binary) over
//     10,000 deployed jobs. That master uses the etcd embedded in a second helios-master,
//     so its memory is the master's own, as with an external etcd cluster.
func BenchmarkMemory(b *testing.B) {
	harness.NeedBusybox(b)
	for i := 0; i < b.N; i++ {
		benchMemory(b)
	}
}

func benchMemory(b *testing.B) {
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), memBenchDeadline)
	defer cancel()
	bins, id, dir := harness.BuildBinaries(b), harness.RunID(b), b.TempDir()
	host := "bench-mem-" + id
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(b))
	holder := harness.Start(b, bins.Path("helios-master"), "--name", "bench-etcd-"+id,
		"--http", fmt.Sprintf("127.0.0.1:%d", harness.FreePort(b)), "--data-dir", dir+"/etcd",
		"--etcd-client-url", etcdURL, "--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(b)))
	var st *store.Store
	harness.Eventually(b, time.Minute, func() error { // the embedded etcd is up
		s, err := store.Open(ctx, store.ConnectConfig{Endpoints: []string{etcdURL}, DialTimeout: storetest.DialTimeout}, store.Config{Prefix: "/helios", RequestTimeout: 30 * time.Second})
		if err != nil {
			return err
		}
		if _, err := s.ListMasters(ctx); err != nil {
			_ = s.Close()
			return err
		}
		st = s
		return nil
	})
	b.Cleanup(func() { _ = st.Close() })
	api := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(b))
	master := harness.Start(b, bins.Path("helios-master"), "--name", "bench-mem-"+id, "--http", api, "--etcd", etcdURL)
	harness.WaitHTTP(b, "http://"+api+"/version", time.Minute)

	// The agent's containers are removed after it is killed (cleanups run last first).
	b.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer ccancel()
		out, err := run(cctx, "docker", "ps", "-aq", "--filter", "label="+agent.LabelHost+"="+host)
		if err == nil && out != "" {
			_, err = run(cctx, "docker", append([]string{"rm", "-f", "-v"}, fieldsOf(out)...)...)
		}
		if err != nil {
			b.Errorf("remove the agent's containers: %v", err)
		}
	})
	ag := harness.Start(b, bins.Path("helios-agent"), "--name", host, "--etcd", etcdURL, "--state-dir", dir+"/agent",
		"--metrics", fmt.Sprintf("127.0.0.1:%d", harness.FreePort(b)))
	helios := func(args ...string) error {
		_, err := run(ctx, bins.Path("helios"), append([]string{"-z", "http://" + api}, args...)...)
		return err
	}
	harness.Eventually(b, time.Minute, func() error {
		hs, err := st.HostStatus(ctx, host)
		if err != nil || hs.Status != model.HostUp {
			return fmt.Errorf("host %s not UP: %v", host, err)
		}
		return nil
	})
	for i := range memContainers {
		name := fmt.Sprintf("mem%d:1", i)
		if err := helios(append([]string{"create", name, testimage.BusyboxTag, "--"}, latencyCmd...)...); err != nil {
			b.Fatal(err)
		}
		if err := helios("deploy", name, host); err != nil {
			b.Fatal(err)
		}
	}
	harness.Eventually(b, 2*time.Minute, func() error {
		hs, err := st.HostStatus(ctx, host)
		if err != nil {
			return err
		}
		running := 0
		for _, ts := range hs.Statuses {
			if ts.State == model.StateRunning {
				running++
			}
		}
		if running != memContainers {
			return fmt.Errorf("%d of %d RUNNING", running, memContainers)
		}
		return nil
	})
	agentMem, err := procMemory(ag.Pid())
	if err != nil {
		b.Fatal(err)
	}

	// 10,000 jobs, each deployed with a RUNNING status on one of 100 hosts, written
	// directly to etcd (the master under test only serves the reads).
	hosts := make([]string, memHosts)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("memhost%03d", i)
		if err := st.RegisterHost(ctx, hosts[i], "id"); err != nil {
			b.Fatal(err)
		}
	}
	progress("memory: agent measured; writing %d jobs", memJobs)
	fill(b, memJobs, func(i int) error {
		job, err := model.WithComputedID(fmt.Sprintf("small%05d", i), "1", model.Job{Image: "busybox:latest", Command: []string{"sleep", "1d"}})
		if err != nil {
			return err
		}
		h := hosts[i%len(hosts)]
		if err := st.CreateJob(ctx, job); err != nil {
			return err
		}
		if err := st.Deploy(ctx, h, model.Deployment{JobID: job.ID}, ""); err != nil {
			return err
		}
		return st.SetTaskStatus(ctx, h, job.ID, model.TaskStatus{Job: &job, Goal: model.GoalStart, State: model.StateRunning, ContainerID: fmt.Sprintf("%064d", i)}, false)
	})
	progress("memory: running helios jobs and helios status against the master")
	before, err := procMemory(master.Pid())
	if err != nil {
		b.Fatal(err)
	}
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the sampled peak of VmRSS while the commands run
		defer wg.Done()
		for {
			if m, err := procMemory(master.Pid()); err == nil && m.rss > peak.Load() {
				peak.Store(m.rss)
			}
			select {
			case <-done:
				return
			case <-time.After(rssSampleEvery):
			}
		}
	}()
	for range memCLIRuns {
		for _, cmd := range []string{"jobs", "status"} {
			if err := helios(cmd); err != nil {
				close(done)
				b.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	after, err := procMemory(master.Pid())
	if err != nil {
		b.Fatal(err)
	}
	holderMem, _ := procMemory(holder.Pid())
	mb := func(v int64) float64 { return round(float64(v)/(1<<20), 1) }
	record(b,
		row{Name: fmt.Sprintf("helios-agent VmRSS, real Docker, %d containers", memContainers), Target: fmt.Sprintf("≤ %d MB", agentRSSTarget>>20), Figure: mb(agentMem.rss), Unit: "MB", Met: metIf(agentMem.rss <= agentRSSTarget)},
		row{Name: "… its VmHWM (peak since start)", Target: fmt.Sprintf("≤ %d MB", agentRSSTarget>>20), Figure: mb(agentMem.hwm), Unit: "MB", Met: metIf(agentMem.hwm <= agentRSSTarget)},
		row{Name: fmt.Sprintf("helios-master (external etcd) VmRSS peak while helios jobs and status run ×%d, %d jobs", memCLIRuns, memJobs), Target: fmt.Sprintf("≤ %d MB", masterRSSTarget>>20), Figure: mb(peak.Load()), Unit: "MB", Met: metIf(peak.Load() <= masterRSSTarget)},
		row{Name: "… its VmHWM (peak since start)", Target: fmt.Sprintf("≤ %d MB", masterRSSTarget>>20), Figure: mb(after.hwm), Unit: "MB", Met: metIf(after.hwm <= masterRSSTarget)},
		row{Name: "… its VmRSS before the commands", Target: metNA, Figure: mb(before.rss), Unit: "MB", Met: metNA},
		row{Name: "for comparison: the helios-master holding the embedded etcd, VmRSS", Target: metNA, Figure: mb(holderMem.rss), Unit: "MB", Met: metNA},
	)
}

// memory is a process's resident set now and at its peak, in bytes.
type memory struct{ rss, hwm int64 }

// procMemory reads VmRSS and VmHWM from /proc/<pid>/status.
func procMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, fmt.Errorf("memory of process %d: %w", pid, err)
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		fs := strings.Fields(v) // "12345 kB"
		if len(fs) != 2 || fs[1] != "kB" {
			return memory{}, fmt.Errorf("memory of process %d: %s: %q", pid, k, v)
		}
		n, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("memory of process %d: %s: %w", pid, k, err)
		}
		if k == "VmRSS" {
			m.rss = n << 10
		} else {
			m.hwm = n << 10
		}
	}
	if m.rss == 0 {
		return memory{}, fmt.Errorf("memory of process %d: no VmRSS in its status", pid)
	}
	return m, sc.Err()
}
