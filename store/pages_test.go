package store_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// allJobPages follows pages of q from the start and returns every id listed, in order,
// failing on a page larger than the limit.
func allJobPages(t *testing.T, s *store.Store, q store.JobsQuery) []model.JobID {
	t.Helper()
	var ids []model.JobID
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pages never end")
		}
		page, err := s.ListJobsPage(testCtx(t), q)
		mustNil(t, "page", err)
		if len(page.Jobs) > q.Limit {
			t.Fatalf("page of %d jobs, limit %d", len(page.Jobs), q.Limit)
		}
		for _, e := range page.Jobs {
			if e.Job.ID != e.ID {
				t.Fatalf("entry %s holds job %s", e.ID, e.Job.ID)
			}
			ids = append(ids, e.ID)
		}
		if !page.More {
			return ids
		}
		q.After = page.Last
	}
}

func TestJobPagesListEveryJobOnce(t *testing.T) {
	s, _, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	var all []model.JobID
	for i := range 57 {
		name := []string{"web", "db", "webcache"}[i%3]
		job, err := model.WithComputedID(name, fmt.Sprint(i), model.Job{Image: "busybox:latest"})
		mustNil(t, "id", err)
		mustNil(t, "create", s.CreateJob(ctx, job))
		all = append(all, job.ID)
	}
	slices.Sort(all)
	filter := func(pred func(model.JobID) bool) []model.JobID {
		var out []model.JobID
		for _, id := range all {
			if pred(id) {
				out = append(out, id)
			}
		}
		return out
	}
	for _, limit := range []int{1, 2, 10, 57, 1000} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			if got := allJobPages(t, s, store.JobsQuery{Limit: limit}); !reflect.DeepEqual(got, all) {
				t.Errorf("all pages: %d ids %v\nwant %d ids", len(got), got, len(all))
			}
			got := allJobPages(t, s, store.JobsQuery{Prefix: "web:", Limit: limit})
			if want := filter(func(id model.JobID) bool { return id.Name() == "web" }); !reflect.DeepEqual(got, want) {
				t.Errorf("prefix web: got %v\nwant %v", got, want)
			}
			cache := func(id model.JobID) bool { return strings.Contains(id.Name(), "cache") }
			if got, want := allJobPages(t, s, store.JobsQuery{Match: cache, Limit: limit}), filter(cache); !reflect.DeepEqual(got, want) {
				t.Errorf("match: got %v\nwant %v", got, want)
			}
		})
	}
	none, err := s.ListJobsPage(ctx, store.JobsQuery{Prefix: "nope:", Limit: 5})
	mustNil(t, "empty prefix", err)
	if len(none.Jobs) != 0 || none.More {
		t.Errorf("prefix matching nothing: %+v", none)
	}
}

// A page resumes after the key its token names even when that job is gone, and a bound
// that is too large is clamped to model.MaxPageLimit.
func TestJobPageResumesAfterDeletedJob(t *testing.T) {
	s, _, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	var ids []model.JobID
	for i := range 5 {
		job := newJob(t, fmt.Sprintf("j%d", i), "")
		mustNil(t, "create", s.CreateJob(ctx, job))
		ids = append(ids, job.ID)
	}
	slices.Sort(ids)
	first, err := s.ListJobsPage(ctx, store.JobsQuery{Limit: 2})
	mustNil(t, "first page", err)
	if !first.More || first.Last != ids[1] {
		t.Fatalf("first page %+v", first)
	}
	mustNil(t, "remove", s.RemoveJob(ctx, ids[1], ""))
	rest, err := s.ListJobsPage(ctx, store.JobsQuery{After: first.Last, Limit: model.MaxPageLimit * 10})
	mustNil(t, "next page", err)
	var got []model.JobID
	for _, e := range rest.Jobs {
		got = append(got, e.ID)
	}
	if !reflect.DeepEqual(got, ids[2:]) || rest.More {
		t.Errorf("after the deleted %s: %v (more %v), want %v", first.Last, got, rest.More, ids[2:])
	}
	_, err = s.ListJobsPage(ctx, store.JobsQuery{After: "a/b", Limit: 1})
	wantErr(t, "after a bad name", err, store.ErrInvalidName)
}

func TestHostPagesListEveryHostOnce(t *testing.T) {
	s, _, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	job := newJob(t, "web", "", 8080)
	mustNil(t, "create", s.CreateJob(ctx, job))
	var all []string
	for i := range 23 {
		h := fmt.Sprintf("host%02d", i)
		mustNil(t, "register", s.RegisterHost(ctx, h, "id"))
		all = append(all, h)
		if i%4 == 0 { // deployments and port keys between hosts' id keys
			mustNil(t, "deploy", s.Deploy(ctx, h, model.Deployment{JobID: job.ID}, ""))
		}
	}
	even := func(h string) bool { return (h[len(h)-1]-'0')%2 == 0 }
	for _, limit := range []int{1, 3, 23, 100} {
		for name, match := range map[string]func(string) bool{"all": nil, "even": even} {
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("pages never end")
				}
				page, err := s.ListHostsPage(ctx, after, limit, match)
				mustNil(t, "page", err)
				if len(page.Hosts) > limit {
					t.Fatalf("page of %d, limit %d", len(page.Hosts), limit)
				}
				got = append(got, page.Hosts...)
				if !page.More {
					break
				}
				after = page.Last
			}
			var want []string
			for _, h := range all {
				if match == nil || match(h) {
					want = append(want, h)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("limit %d, %s: %v\nwant %v", limit, name, got, want)
			}
		}
	}
}

// A JSON page holds each job as stored, which decodes to the job a decoded page holds; a
// value that is not a JSON object is left out of both, and the listing goes on.
func TestJobPagesAsJSONHoldTheStoredJobs(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	for i := range 4 {
		mustNil(t, "create", s.CreateJob(ctx, newJob(t, fmt.Sprintf("j%d", i), "")))
	}
	keys := store.NewKeys("")
	for id, val := range map[model.JobID]string{"bad:1:0": `{"id":`, "bad:2:0": `["a list"]`} {
		_, err := cli.Put(ctx, keys.Job(id), val)
		mustNil(t, "put corrupt value", err)
	}
	decoded, err := s.ListJobsPage(ctx, store.JobsQuery{Limit: 10})
	mustNil(t, "decoded page", err)
	asJSON, err := s.ListJobsPage(ctx, store.JobsQuery{Limit: 10, JSON: true})
	mustNil(t, "JSON page", err)
	if len(decoded.Jobs) != 4 || len(asJSON.Jobs) != 4 {
		t.Fatalf("pages of %d and %d jobs, want the 4 that decode", len(decoded.Jobs), len(asJSON.Jobs))
	}
	for i, e := range asJSON.Jobs {
		var job model.Job
		mustNil(t, "decode "+string(e.ID), json.Unmarshal(e.JSON, &job))
		if e.ID != decoded.Jobs[i].ID || !reflect.DeepEqual(job, decoded.Jobs[i].Job) {
			t.Errorf("JSON entry %s = %s, decoded entry %s = %+v", e.ID, e.JSON, decoded.Jobs[i].ID, decoded.Jobs[i].Job)
		}
	}
}
