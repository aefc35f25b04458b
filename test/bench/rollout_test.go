package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/controller"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
)

// BenchmarkRollingUpdate rolls a job, then its next version, over a deployment group of
// 1,000 hollow agents at parallelism 50, with etcd's fsync on. The master (API and leader
// loops) runs in this process on the same etcd; the rolling update goes through the store
// as the API does. It reports the time from the request to DONE for each rollout.
func BenchmarkRollingUpdate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchRollout(b, 1000, 50)
	}
}

// rolloutTarget is the rolling-updates issue's target for each 1,000-host rollout.
const rolloutTarget = 30 * time.Second

func benchRollout(b *testing.B, n, par int) {
	b.StopTimer()
	_, e := storetest.NewEtcdFsync(b)
	st := storetest.Open(b, e, store.Config{RequestTimeout: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	m, err := controller.NewMaster(controller.MasterConfig{Name: "bench", HTTPAddr: "127.0.0.1:0", Store: st, LeaderTTL: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = m.Run(ctx)
	}()
	for i := range n {
		name := fmt.Sprintf("hollow%04d", i)
		harness.StartHollow(b, harness.Hollow{Name: name, Labels: map[string]string{"role": "bench"}, Store: st,
			LeaseTTL: 10 * time.Second, ResyncInterval: 30 * time.Second})
	}
	waitFor(b, 5*time.Minute, "all hosts up and labelled", func() (bool, error) {
		facts, err := st.HostFactsAll(ctx)
		up := 0
		for _, f := range facts {
			if f.Up && f.Labels["role"] == "bench" {
				up++
			}
		}
		return up == n, err
	})
	sels, _ := model.ParseHostSelectors([]string{"role=bench"})
	if _, err := st.CreateDeploymentGroup(ctx, model.DeploymentGroup{Name: "bench", HostSelectors: sels}); err != nil {
		b.Fatal(err)
	}
	opts := &model.RolloutOptions{Parallelism: &par}
	for _, version := range []string{"1", "2"} {
		job, err := model.WithComputedID("bench", version, model.Job{Image: "busybox:latest", Command: []string{"sleep", "1d"}})
		if err != nil {
			b.Fatal(err)
		}
		if err := st.CreateJob(ctx, job); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := st.RollingUpdate(ctx, "bench", job.ID, opts, start.UnixMilli()); err != nil {
			b.Fatal(err)
		}
		var last model.DeploymentGroupStatusResponse
		waitFor(b, 10*time.Minute, "rollout of v"+version+" DONE", func() (bool, error) {
			s, err := st.DeploymentGroupStatus(ctx, "bench")
			if err == nil {
				last = *s
			}
			return err == nil && s.Status == model.GroupDone, fmt.Errorf("%s, task %d of %d, error %q", last.Status, last.TaskIndex, last.TaskCount, last.Error)
		})
		took := time.Since(start)
		b.StopTimer()
		if len(last.HostStatuses) != n {
			b.Fatalf("v%s DONE with %d hosts in the status, want %d", version, len(last.HostStatuses), n)
		}
		for _, hs := range last.HostStatuses {
			if hs.JobID == nil || *hs.JobID != job.ID || hs.State == nil || *hs.State != model.StateRunning {
				b.Fatalf("v%s DONE but %s is not RUNNING it", version, hs.Host)
			}
		}
		b.ReportMetric(took.Seconds(), "s-rollout-v"+version)
		what := fmt.Sprintf("rolling update v1 onto %d empty hosts, parallelism %d (fsync on)", n, par)
		if version != "1" {
			what = fmt.Sprintf("rolling update v1 → v%s on %d hosts, parallelism %d", version, n, par)
		}
		record(b, row{Name: what, Target: fmt.Sprintf("≤ %g s", rolloutTarget.Seconds()), Figure: round(took.Seconds(), 1), Unit: "s", Met: metIf(took <= rolloutTarget)})
	}
}
