package store_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// etcdRequests counts the etcd requests the store made under op, from its own metrics.
func etcdRequests(t *testing.T, reg *prometheus.Registry, op string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	mustNil(t, "gather", err)
	for _, mf := range mfs {
		if mf.GetName() != "helios_store_etcd_request_duration_seconds" {
			continue
		}
		for _, m := range mf.Metric {
			if labelIs(m, "op", op) {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

func labelIs(m *dto.Metric, name, value string) bool {
	for _, l := range m.Label {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// The bulk read answers exactly what one JobStatus per id would, for dense, sparse and
// unknown ids, in a number of requests that does not grow with the number of jobs.
func TestJobStatusesMatchJobStatusInFewReads(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, _, _ := newStore(t, store.Config{Registerer: reg})
	ctx := testCtx(t)
	hosts := []string{"h1", "h2", "h3"}
	for _, h := range hosts {
		mustNil(t, "register", s.RegisterHost(ctx, h, "id"))
	}
	var ids []model.JobID
	for i := range 300 {
		job := newJob(t, fmt.Sprintf("job%03d", i), "")
		mustNil(t, "create", s.CreateJob(ctx, job))
		ids = append(ids, job.ID)
		// Jobs deployed on none, one or two hosts; some with a status, one with a status
		// and no deployment left (the agent has not cleaned up yet).
		for k, h := range hosts {
			if (i+k)%3 != 0 {
				continue
			}
			mustNil(t, "deploy", s.Deploy(ctx, h, model.Deployment{JobID: job.ID}, ""))
			if i%2 == 0 {
				mustNil(t, "status", s.SetTaskStatus(ctx, h, job.ID, model.TaskStatus{State: model.StateRunning, ContainerID: fmt.Sprintf("c%d-%s", i, h)}, false))
			}
		}
	}
	unknown := newJob(t, "nope", "").ID
	cases := map[string][]model.JobID{
		"all":            ids,
		"sparse":         {ids[3], ids[150], ids[299]},
		"one":            {ids[7]},
		"with unknown":   {ids[10], unknown, ids[11]},
		"duplicates":     {ids[5], ids[5]},
		"none requested": {},
	}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			before := etcdRequests(t, reg, "job-statuses")
			got, err := s.JobStatuses(ctx, req)
			mustNil(t, "job statuses", err)
			reads := etcdRequests(t, reg, "job-statuses") - before
			want := map[model.JobID]*model.JobStatus{}
			for _, id := range req {
				st, err := s.JobStatus(ctx, id)
				if err != nil {
					wantErr(t, "job status", err, store.ErrJobNotFound)
					continue
				}
				want[id] = st
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("JobStatuses differs from JobStatus per id:\n got %d jobs\nwant %d jobs", len(got), len(want))
			}
			// First read, the jobs (at most 3 chunks of 128 for 300 ids), one per 64 hosts.
			if limit := uint64(1 + 3 + 1); reads > limit {
				t.Errorf("%d etcd requests for %d ids, want at most %d", reads, len(req), limit)
			}
		})
	}
	_, err := s.JobStatuses(ctx, []model.JobID{"a/b:1:2"})
	if err == nil || !strings.Contains(err.Error(), "contains '/'") {
		t.Errorf("bad id: %v, want an invalid-name error", err)
	}
}

// Without the jobs, the JSON statuses hold the same ids, deployments and task statuses as
// stored, and no job; without the task statuses too, the deployments alone.
func TestJobStatusesJSONWithoutJobs(t *testing.T) {
	s, _, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	mustNil(t, "register", s.RegisterHost(ctx, "h1", "id"))
	a, b := newJob(t, "a", ""), newJob(t, "b", "")
	for _, j := range []model.Job{a, b} {
		mustNil(t, "create", s.CreateJob(ctx, j))
	}
	mustNil(t, "deploy", s.Deploy(ctx, "h1", model.Deployment{JobID: a.ID}, ""))
	mustNil(t, "status", s.SetTaskStatus(ctx, "h1", a.ID, model.TaskStatus{Job: &a, State: model.StateRunning}, false))
	ids := []model.JobID{a.ID, b.ID, newJob(t, "unknown", "").ID}
	with, err := s.JobStatusesJSON(ctx, ids, store.JobStatusParts{})
	mustNil(t, "with jobs", err)
	without, err := s.JobStatusesJSON(ctx, ids, store.JobStatusParts{OmitJobs: true})
	mustNil(t, "without jobs", err)
	if len(with) != 2 || len(without) != 2 {
		t.Fatalf("%d and %d statuses, want the 2 known jobs", len(with), len(without))
	}
	for id, w := range with {
		wo := without[id]
		if w.Job == nil || wo == nil || wo.Job != nil {
			t.Fatalf("%s: with jobs %s, without %+v", id, w.Job, wo)
		}
		if !reflect.DeepEqual(w.Deployments, wo.Deployments) || !reflect.DeepEqual(w.TaskStatuses, wo.TaskStatuses) {
			t.Errorf("%s: deployments or task statuses differ without the jobs", id)
		}
	}
	if len(without[a.ID].Deployments) != 1 || len(without[a.ID].TaskStatuses) != 1 || len(without[b.ID].Deployments) != 0 {
		t.Errorf("a: %+v, b: %+v", without[a.ID], without[b.ID])
	}
	bare, err := s.JobStatusesJSON(ctx, ids, store.JobStatusParts{OmitJobs: true, OmitTaskStatuses: true})
	mustNil(t, "without jobs and task statuses", err)
	for id, w := range with {
		if b := bare[id]; b == nil || b.Job != nil || b.TaskStatuses != nil || !reflect.DeepEqual(b.Deployments, w.Deployments) {
			t.Errorf("%s without jobs and task statuses: %+v, want the deployments alone", id, b)
		}
	}
}
