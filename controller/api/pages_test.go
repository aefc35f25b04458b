package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// pagedJobs follows GET /jobs pages of size limit and returns the union and the number of
// pages, failing on a page larger than limit or an id listed twice.
func (e *env) pagedJobs(query string, limit int) (map[model.JobID]model.Job, int) {
	e.t.Helper()
	all := map[model.JobID]model.Job{}
	token := ""
	for pages := 1; ; pages++ {
		path := fmt.Sprintf("/jobs?limit=%d%s", limit, query)
		if token != "" {
			path += "&continue=" + url.QueryEscape(token)
		}
		r := e.do("GET", path, nil)
		var page map[model.JobID]model.Job
		e.expect(r, http.StatusOK, "", &page)
		if len(page) > limit {
			e.t.Fatalf("page %d holds %d jobs, limit %d", pages, len(page), limit)
		}
		for id, j := range page {
			if _, dup := all[id]; dup {
				e.t.Fatalf("job %s listed twice", id)
			}
			all[id] = j
		}
		if token = r.header.Get(model.HeaderContinue); token == "" {
			return all, pages
		}
		if pages > 100 {
			e.t.Fatal("pages never end")
		}
	}
}

func TestJobsPagesCoverTheUnpagedList(t *testing.T) {
	e := newEnv(t)
	e.registerHost("web-host")
	e.registerHost("db-host")
	ctx := ctxT(t)
	for i := range 13 {
		name := []string{"web", "db", "webcache"}[i%3]
		job, err := model.WithComputedID(name, fmt.Sprint(i), model.Job{Image: "busybox:latest", Env: map[string]string{"N": fmt.Sprint(i), "HTML": "<&>"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.CreateJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := e.store.Deploy(ctx, map[bool]string{true: "web-host", false: "db-host"}[name != "db"], model.Deployment{JobID: job.ID}, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The unpaged answer is, byte for byte, the whole map encoded at once.
	jobs, err := e.store.ListJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/jobs", nil); r.code != http.StatusOK || string(r.body) != string(want)+"\n" || r.header.Get(model.HeaderContinue) != "" {
		t.Fatalf("unpaged GET /jobs: %d %q\n%s\nwant\n%s", r.code, r.header.Get(model.HeaderContinue), r.body, want)
	}
	for _, query := range []string{"", "&q=web", "&q=web:", "&q=cache", "&hostPattern=web", "&hostPattern=db-&q=db:1", "&q=nothing"} {
		var whole map[model.JobID]model.Job
		e.expect(e.do("GET", "/jobs?"+strings.TrimPrefix(query, "&"), nil), http.StatusOK, "", &whole)
		for _, limit := range []int{1, 4, 1000} {
			got, pages := e.pagedJobs(query, limit)
			if !reflect.DeepEqual(got, whole) {
				t.Errorf("query %q limit %d: pages hold %d jobs, unpaged %d", query, limit, len(got), len(whole))
			}
			if query == "" && pages != (13+limit-1)/limit {
				t.Errorf("limit %d: %d pages for 13 jobs", limit, pages)
			}
		}
	}
}

func TestBadPageParametersAre400(t *testing.T) {
	e := newEnv(t)
	hostsToken := model.ContinueToken(model.PageHosts, "h1")
	for path, msg := range map[string]string{
		"/jobs?limit=0":                        "limit 0 is out of range: want 1 to 1000",
		"/jobs?limit=1001":                     "limit 1001 is out of range",
		"/jobs?limit=ten":                      `limit "ten" is not a whole number`,
		"/jobs?continue=abc":                   "continue needs limit",
		"/jobs?limit=5&continue=%21%21":        `continue token "!!" is not valid`,
		"/jobs?limit=5&continue=":              `continue token "" is not valid`,
		"/jobs?limit=5&continue=" + hostsToken: "belongs to the list of hosts, not of jobs",
		"/hosts?limit=-1":                      "limit -1 is out of range",
		"/hosts?limit=5&continue=" + model.ContinueToken(model.PageJobs, "a:1:2"): "belongs to the list of jobs, not of hosts",
	} {
		r := e.do("GET", path, nil)
		var body model.ErrorResponse
		e.expect(r, http.StatusBadRequest, model.StatusBadRequest, &body)
		if !strings.Contains(body.Message, msg) {
			t.Errorf("GET %s: message %q, want %q", path, body.Message, msg)
		}
	}
}

func TestHostsPagesCoverTheUnpagedList(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	for i := range 9 {
		h := fmt.Sprintf("host%d", i)
		e.registerHost(h)
		if err := e.store.PutHostLabels(ctx, h, map[string]string{"parity": []string{"even", "odd"}[i%2]}); err != nil {
			t.Fatal(err)
		}
	}
	for _, query := range []string{"", "&namePattern=host1", "&selector=parity%3Deven", "&namePattern=nope"} {
		var whole []string
		e.expect(e.do("GET", "/hosts?"+strings.TrimPrefix(query, "&"), nil), http.StatusOK, "", &whole)
		for _, limit := range []int{1, 2, 50} {
			got := []string{}
			token := ""
			for pages := 0; ; pages++ {
				path := fmt.Sprintf("/hosts?limit=%d%s", limit, query)
				if token != "" {
					path += "&continue=" + url.QueryEscape(token)
				}
				r := e.do("GET", path, nil)
				var page []string
				e.expect(r, http.StatusOK, "", &page)
				if page == nil || len(page) > limit {
					t.Fatalf("GET %s: page %v", path, page)
				}
				got = append(got, page...)
				if token = r.header.Get(model.HeaderContinue); token == "" || pages > 50 {
					break
				}
			}
			if !sort.StringsAreSorted(got) || !reflect.DeepEqual(got, whole) {
				t.Errorf("query %q limit %d: pages %v, unpaged %v", query, limit, got, whole)
			}
		}
	}
}

// pagingStore lists one job, says more follow, then fails.
type pagingStore struct {
	Store
}

func (pagingStore) ListJobsPage(_ context.Context, q store.JobsQuery) (store.JobsPage, error) {
	if q.After != "" {
		return store.JobsPage{}, errors.New("etcd went away midway")
	}
	id := model.JobID("a:1:0123456789abcdef")
	return store.JobsPage{Jobs: []store.JobEntry{{ID: id, Job: model.Job{ID: id}, JSON: json.RawMessage(`{"id":"` + id + `"}`)}}, Last: id, More: true}, nil
}

// A streamed list that fails after it started cannot become a 500: the client must see a
// broken answer, never a short list that looks whole.
func TestStreamedJobsFailingMidwayCutTheConnection(t *testing.T) {
	e := newEnv(t)
	h, err := New(Config{Store: pagingStore{e.store}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/jobs")
	if err != nil {
		return // cut before the headers went out: as broken as it should be
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		var m map[string]any
		t.Fatalf("read the whole answer (%d, %s; valid JSON: %v); want a cut connection", resp.StatusCode, body, json.Unmarshal(body, &m) == nil)
	}
}
