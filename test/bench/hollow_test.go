package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
)

// BenchmarkHollowAgents starts N hollow agents on one embedded etcd, deploys one job to all
// of them through the store (as the master's API does), and measures the time until every
// host reports RUNNING, then until every task is gone after undeploying.
func BenchmarkHollowAgents(b *testing.B) {
	// 2,000 hosts ran here too; BenchmarkScale's 1,000 hosts × 10 jobs now covers the
	// fleet's size, and make bench must fit in 10 minutes.
	for _, n := range []int{100, 500} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				benchHollow(b, n)
			}
		})
	}
}

func benchHollow(b *testing.B, n int) {
	b.StopTimer()
	_, e := storetest.NewEtcd(b)
	st := storetest.Open(b, e, store.Config{RequestTimeout: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("hollow%04d", i)
		harness.StartHollow(b, harness.Hollow{Name: hosts[i], Store: st, LeaseTTL: 10 * time.Second, ResyncInterval: 30 * time.Second})
	}
	waitFor(b, 2*time.Minute, "all hosts up", func() (bool, error) {
		all, err := st.HostStatuses(ctx, nil)
		up := 0
		for _, hs := range all {
			if hs.Status == model.HostUp {
				up++
			}
		}
		return up == n, err
	})
	job, err := model.WithComputedID("bench", "1", model.Job{Image: "busybox:latest", Command: []string{"sleep", "1d"}})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateJob(ctx, job); err != nil {
		b.Fatal(err)
	}

	b.StartTimer()
	start := time.Now()
	for _, h := range hosts {
		if err := st.Deploy(ctx, h, model.Deployment{JobID: job.ID, Goal: model.GoalStart}, ""); err != nil {
			b.Fatal(err)
		}
	}
	deployed := time.Since(start)
	waitFor(b, 5*time.Minute, "all RUNNING", func() (bool, error) {
		js, err := st.JobStatus(ctx, job.ID)
		if err != nil {
			return false, err
		}
		running := 0
		for _, ts := range js.TaskStatuses {
			if ts.State == model.StateRunning {
				running++
			}
		}
		return running == n, nil
	})
	converged := time.Since(start)
	undeployStart := time.Now()
	for _, h := range hosts {
		if err := st.Undeploy(ctx, h, job.ID, ""); err != nil {
			b.Fatal(err)
		}
	}
	waitFor(b, 5*time.Minute, "all tasks gone", func() (bool, error) {
		js, err := st.JobStatus(ctx, job.ID)
		return err == nil && len(js.TaskStatuses) == 0, err
	})
	gone := time.Since(undeployStart)
	b.StopTimer()

	b.ReportMetric(float64(n)/deployed.Seconds(), "deploys/s")
	b.ReportMetric(converged.Seconds(), "s-to-all-running")
	b.ReportMetric(gone.Seconds(), "s-to-all-undeployed")
	record(b,
		row{Name: fmt.Sprintf("%d hosts, one deploy after the other (fsync off): deploys", n), Target: metNA, Figure: round(float64(n)/deployed.Seconds(), 0), Unit: "deploys/s", Met: metNA},
		row{Name: fmt.Sprintf("%d hosts: all RUNNING after", n), Target: metNA, Figure: round(converged.Seconds(), 2), Unit: "s", Met: metNA},
		row{Name: fmt.Sprintf("%d hosts: all undeployed after", n), Target: metNA, Figure: round(gone.Seconds(), 2), Unit: "s", Met: metNA},
	)
}

func waitFor(b *testing.B, timeout time.Duration, what string, cond func() (bool, error)) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: not within %v (last error: %v)", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
