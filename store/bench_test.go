package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// Benchmarks of the store on one embedded etcd member (fsync off): what one master can
// write and read. `make bench` runs them; docs/benchmarks.md keeps the results.

func BenchmarkCreateJob(b *testing.B) {
	st := newBenchStore(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j, err := model.WithComputedID(fmt.Sprintf("bench%d", i), "1", model.Job{Image: "busybox:latest"})
		if err != nil {
			b.Fatal(err)
		}
		if err := st.CreateJob(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeploy(b *testing.B) {
	st := newBenchStore(b)
	ctx := context.Background()
	j, err := model.WithComputedID("bench", "1", model.Job{Image: "busybox:latest"})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateJob(ctx, j); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if err := st.RegisterHost(ctx, fmt.Sprintf("h%d", i), "id"); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := st.Deploy(ctx, fmt.Sprintf("h%d", i), model.Deployment{JobID: j.ID, Goal: model.GoalStart}, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostStatuses1000 reads every host's status (deployments, task statuses, info) of
// a 1000-host cluster with 5 jobs each: `helios hosts` and `helios status` on a big fleet.
func BenchmarkHostStatuses1000(b *testing.B) {
	st := newBenchStore(b)
	ctx := context.Background()
	var jobs []model.Job
	for k := 0; k < 5; k++ {
		j, err := model.WithComputedID(fmt.Sprintf("job%d", k), "1", model.Job{Image: "busybox:latest"})
		if err != nil {
			b.Fatal(err)
		}
		if err := st.CreateJob(ctx, j); err != nil {
			b.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	for h := 0; h < 1000; h++ {
		host := fmt.Sprintf("host%04d", h)
		if err := st.RegisterHost(ctx, host, "id"); err != nil {
			b.Fatal(err)
		}
		for _, j := range jobs {
			if err := st.Deploy(ctx, host, model.Deployment{JobID: j.ID, Goal: model.GoalStart}, ""); err != nil {
				b.Fatal(err)
			}
			jc := j
			if err := st.SetTaskStatus(ctx, host, j.ID, model.TaskStatus{Job: &jc, Goal: model.GoalStart, State: model.StateRunning, Throttled: model.ThrottleNo}, false); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		all, err := st.HostStatuses(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(all) != 1000 {
			b.Fatalf("%d hosts, want 1000", len(all))
		}
	}
}

func newBenchStore(b *testing.B) *store.Store {
	b.Helper()
	st, _, _ := newStore(b, store.Config{})
	return st
}
