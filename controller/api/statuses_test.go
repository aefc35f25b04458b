package api

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// etcdRequests is the number of etcd requests the store behind reg has made.
func etcdRequests(t *testing.T, reg *prometheus.Registry) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == "helios_store_etcd_request_duration_seconds" {
			for _, m := range mf.Metric {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

// withCountedStore swaps the env's store for one on the same etcd whose requests are
// counted on reg.
func withCountedStore(t *testing.T, reg *prometheus.Registry) func(*Config) {
	return func(c *Config) {
		c.Store = storetest.OpenEndpoints(t, c.Store.(*store.Store).Endpoints(), store.Config{RequestTimeout: 2 * time.Second, Registerer: reg})
	}
}

// Bulk statuses of many jobs take a few range reads, not one transaction (or more) per id.
func TestJobStatusesReadsEtcdAFewTimes(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, withCountedStore(t, reg))
	e.registerHost("h1")
	e.registerHost("h2")
	ctx := ctxT(t)
	var ids []model.JobID
	for i := range 200 {
		job, err := model.WithComputedID(fmt.Sprintf("bulk%03d", i), "1", model.Job{Image: "busybox:latest"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.CreateJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, job.ID)
		if err := e.store.Deploy(ctx, []string{"h1", "h2"}[i%2], model.Deployment{JobID: job.ID}, ""); err != nil {
			t.Fatal(err)
		}
	}
	before := etcdRequests(t, reg)
	var got map[model.JobID]model.JobStatus
	e.expect(e.do("POST", "/jobs/statuses", append(ids, "not-an-id", "nope:1:0123456789abcdef")), http.StatusOK, "", &got)
	if n := etcdRequests(t, reg) - before; n > 4 {
		t.Errorf("POST /jobs/statuses of %d jobs made %d etcd requests, want at most 4", len(ids), n)
	}
	if len(got) != len(ids) {
		t.Fatalf("%d statuses, want %d", len(got), len(ids))
	}
	for i, id := range ids {
		st := got[id]
		host := []string{"h1", "h2"}[i%2]
		if st.Job == nil || st.Job.ID != id || len(st.Deployments) != 1 || st.Deployments[host].JobID != id || st.TaskStatuses == nil {
			t.Fatalf("status of %s = %+v, want its job and one deployment on %s", id, st, host)
		}
	}
}
