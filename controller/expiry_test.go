package controller

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
)

// TestExpiredJobIsUndeployedEverywhereAndRemoved: once a job's expires has passed, the
// leader undeploys it from every host (even with a token set) and removes it with its
// history; a job without expiry, and one expiring later, are left alone.
func TestExpiredJobIsUndeployedEverywhereAndRemoved(t *testing.T) {
	_, e := storetest.NewEtcd(t)
	st := storetest.Open(t, e, store.Config{RequestTimeout: 2 * time.Second})
	ctx := context.Background()
	for _, h := range []string{"h1", "h2"} {
		if err := st.RegisterHost(ctx, h, "id-"+h); err != nil {
			t.Fatal(err)
		}
	}
	soon := time.Now().Add(1500 * time.Millisecond)
	later := time.Now().Add(time.Hour)
	mk := func(name string, expires *time.Time) model.JobID {
		j, err := model.WithComputedID(name, "1", model.Job{Image: "busybox:latest", Token: "secret", Expires: expires})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"h1", "h2"} {
			if err := st.Deploy(ctx, h, model.Deployment{JobID: j.ID, Goal: model.GoalStart}, "secret"); err != nil {
				t.Fatal(err)
			}
		}
		return j.ID
	}
	expiring, keep, notYet := mk("expiring", &soon), mk("forever", nil), mk("later", &later)
	if err := st.SetTaskStatus(ctx, "h1", expiring, model.TaskStatus{Goal: model.GoalStart, State: model.StateRunning, Throttled: model.ThrottleNo}, true); err != nil {
		t.Fatal(err)
	}

	startTestMaster(t, st, "m")
	eventually(t, 15*time.Second, func() error {
		if _, err := st.GetJob(ctx, expiring); !errors.Is(err, store.ErrJobNotFound) {
			return fmt.Errorf("expired job still there (%v)", err)
		}
		return nil
	})
	for _, h := range []string{"h1", "h2"} {
		if _, err := st.GetDeployment(ctx, h, expiring); !errors.Is(err, store.ErrNotDeployed) {
			t.Errorf("expired job still deployed on %s: %v", h, err)
		}
	}
	if ev, err := st.History(ctx, expiring); err != nil || len(ev) != 0 {
		t.Errorf("expired job's history: %d events, %v; want none", len(ev), err)
	}
	for _, id := range []model.JobID{keep, notYet} {
		js, err := st.JobStatus(ctx, id)
		if err != nil || len(js.Deployments) != 2 {
			t.Errorf("job %s: %v, deployments %v; want it untouched on both hosts", id, err, js)
		}
	}
}
