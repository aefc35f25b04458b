package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
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

// The bulk answer, written from the stored JSON, holds for each id exactly what
// GET /jobs/{id}/status holds, ?omitJobs=true the same without any job in it, and
// omitTaskStatuses=true without the task statuses.
func TestJobStatusesAnswerAsJobStatusDoes(t *testing.T) {
	e := newEnv(t)
	e.registerHost("h1")
	e.registerHost("h2")
	ctx := ctxT(t)
	var ids []model.JobID
	for _, doc := range []string{
		`{"id":"a:1","image":"busybox","env":{"K":"V"},"ports":{"http":{"internalPort":80}}}`,
		`{"id":"b:1","image":"busybox","expires":"2999-01-01T00:00:00Z"}`,
		`{"id":"c:1","image":"busybox"}`,
	} {
		ids = append(ids, e.createJob(doc))
	}
	for i, id := range ids[:2] {
		job, err := e.store.GetJob(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"h1", "h2"}[:i+1] {
			e.expect(e.do("PUT", "/hosts/"+h+"/jobs/"+string(id), `{"goal":"START"}`), http.StatusOK, model.StatusOK, nil)
			ts := model.TaskStatus{Job: job, Goal: model.GoalStart, State: model.StateRunning, ContainerID: "c-" + h, Throttled: model.ThrottleNo,
				Ports: map[string]model.PortMapping{"http": {InternalPort: 80}}, Env: map[string]string{"K": "V"}}
			if err := e.store.SetTaskStatus(ctx, h, id, ts, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[model.JobID]any{}
	wantOmitted := map[model.JobID]any{}
	wantBare := map[model.JobID]any{}
	for _, id := range ids {
		var one map[string]any
		e.expect(e.do("GET", "/jobs/"+string(id)+"/status", nil), http.StatusOK, "", &one)
		want[id] = one
		var again map[string]any // a second copy to strip the jobs from
		e.expect(e.do("GET", "/jobs/"+string(id)+"/status", nil), http.StatusOK, "", &again)
		delete(again, "job")
		for _, ts := range again["taskStatuses"].(map[string]any) {
			delete(ts.(map[string]any), "job")
		}
		wantOmitted[id] = again
		var bare map[string]any // and a third without the task statuses
		e.expect(e.do("GET", "/jobs/"+string(id)+"/status", nil), http.StatusOK, "", &bare)
		delete(bare, "job")
		delete(bare, "taskStatuses")
		wantBare[id] = bare
	}
	for query, want := range map[string]map[model.JobID]any{
		"":                                       want,
		"?omitJobs=false":                        want,
		"?omitJobs=true":                         wantOmitted,
		"?omitJobs=true&omitTaskStatuses=true":   wantBare,
		"?omitJobs=false&omitTaskStatuses=false": want,
	} {
		var got map[model.JobID]any
		e.expect(e.do("POST", "/jobs/statuses"+query, ids), http.StatusOK, "", &got)
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("POST /jobs/statuses%s:\n got %s\nwant %s", query, g, w)
		}
	}
	e.expect(e.do("POST", "/jobs/statuses?omitJobs=yes", ids), http.StatusBadRequest, model.StatusBadRequest, nil)
	e.expect(e.do("POST", "/jobs/statuses?omitTaskStatuses=no", ids), http.StatusBadRequest, model.StatusBadRequest, nil)
}

func TestParseBoolParam(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"", false, false},
		{"true", true, false},
		{"false", false, false},
		{"1", true, false},
		{"yes", false, true},
		{"TRUE ", false, true},
	} {
		got, err := parseBoolParam("omitJobs", c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("parseBoolParam(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "omitJobs=") {
			t.Errorf("parseBoolParam(%q): error %q does not name the parameter", c.in, err)
		}
	}
}

// A deployment or task status that is not a JSON object (written by hand into etcd) is
// left out of the bulk answer, which stays valid JSON and holds everything else.
func TestJobStatusesLeaveOutCorruptValues(t *testing.T) {
	e := newEnv(t)
	e.registerHost("h1")
	e.registerHost("h2")
	ctx := ctxT(t)
	id := e.createJob(`{"id":"a:1","image":"busybox"}`)
	keys := store.NewKeys("")
	for _, h := range []string{"h1", "h2"} {
		e.expect(e.do("PUT", "/hosts/"+h+"/jobs/"+string(id), `{"goal":"START"}`), http.StatusOK, model.StatusOK, nil)
	}
	for key, val := range map[string]string{
		keys.TaskStatus("h1", id): `{"job":{"id":"a:1"},"goal":"START","state":"RUNNING","throttled":"NO"}`,
		keys.TaskStatus("h2", id): `{"job":{"id":"a:1"},"goal":"START","state":`,
		keys.Deployment("h2", id): `["not", "a deployment"]`,
	} {
		if _, err := e.cli.Put(ctx, key, val); err != nil {
			t.Fatal(err)
		}
	}
	for _, query := range []string{"", "?omitJobs=true"} {
		var got map[model.JobID]model.JobStatus
		e.expect(e.do("POST", "/jobs/statuses"+query, []model.JobID{id}), http.StatusOK, "", &got)
		st := got[id]
		if len(st.Deployments) != 1 || st.Deployments["h1"].JobID != id || len(st.TaskStatuses) != 1 || st.TaskStatuses["h1"].State != model.StateRunning {
			t.Errorf("POST /jobs/statuses%s: %+v, want h1's deployment and task status only", query, st)
		}
	}
}
