package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/helios-go/helios/model"
)

const busybox = `{"id":"foo:1","image":"busybox:latest","env":{"A":"1"}}`

func TestCreateJobWithoutHashReturnsComputedID(t *testing.T) {
	e := newEnv(t)
	id := e.createJob(busybox)

	want, err := model.ComputeJobHash("foo", "1", &model.Job{Image: "busybox:latest", Env: map[string]string{"A": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if id != model.NewJobID("foo", "1", want) {
		t.Fatalf("got id %s, want foo:1:%s", id, want)
	}

	var job model.Job
	e.expect(e.do("GET", "/jobs/"+string(id), nil), http.StatusOK, "", &job)
	if job.ID != id || job.Image != "busybox:latest" || job.Env["A"] != "1" {
		t.Fatalf("stored job %+v", job)
	}
	if job.Created == nil || *job.Created != testNow.UnixMilli() {
		t.Fatalf("created = %v, want %d", job.Created, testNow.UnixMilli())
	}
	if job.CreatingUser != "alice" {
		t.Fatalf("creatingUser = %q, want alice", job.CreatingUser)
	}
	if job.Command == nil || job.Ports == nil {
		t.Fatalf("job not normalized: %+v", job)
	}
}

func TestCreateJobWithMatchingHashAccepted(t *testing.T) {
	e := newEnv(t)
	h, err := model.ComputeJobHash("foo", "1", &model.Job{Image: "busybox:latest", Env: map[string]string{"A": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	full := "foo:1:" + h
	id := e.createJob(strings.Replace(busybox, `"foo:1"`, `"`+full+`"`, 1))
	if string(id) != full {
		t.Fatalf("got id %s, want %s", id, full)
	}
}

func TestCreateJobRejections(t *testing.T) {
	e := newEnv(t)
	e.createJob(busybox)
	wrong := strings.Repeat("0", 40)
	computed := string(e.createdID(t))

	cases := []struct {
		name, body string
		code       int
		status     string
		errPart    string
	}{
		{"wrong hash names both hashes", `{"id":"foo:1:` + wrong + `","image":"busybox:latest","env":{"A":"1"}}`,
			400, model.StatusInvalidJobDefinition, wrong},
		{"no id", `{"image":"busybox:latest"}`, 400, model.StatusInvalidJobDefinition, "id required"},
		{"no image", `{"id":"bar:1"}`, 400, model.StatusInvalidJobDefinition, "image"},
		{"bad name", `{"id":"b@r:1","image":"busybox"}`, 400, model.StatusInvalidJobDefinition, "b@r"},
		{"capability not whitelisted", `{"id":"cap:1","image":"busybox","addCapabilities":["NET_ADMIN"]}`,
			400, model.StatusInvalidJobDefinition, "NET_ADMIN"},
		{"already exists", busybox, 400, model.StatusJobAlreadyExists, computed},
		{"malformed JSON", `{"id":"foo:1",`, 400, model.StatusBadRequest, ""},
		{"wrong JSON type", `{"id":"foo:1","image":7}`, 400, model.StatusBadRequest, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.revision()
			r := e.do("POST", "/jobs", c.body)
			var cr struct {
				model.CreateJobResponse
				Message string `json:"message"`
			}
			e.expect(r, c.code, c.status, &cr)
			all := strings.Join(cr.Errors, "\n") + cr.Message
			if !strings.Contains(all, c.errPart) {
				t.Fatalf("errors %q do not mention %q", all, c.errPart)
			}
			if c.name == "wrong hash names both hashes" && !strings.Contains(all, computed[len("foo:1:"):]) {
				t.Fatalf("errors %q do not name the computed hash", all)
			}
			if after := e.revision(); after != before {
				t.Fatalf("rejected request wrote to etcd: revision %d -> %d", before, after)
			}
		})
	}
}

// createdID is the id busybox got (jobs list has exactly it).
func (e *env) createdID(t *testing.T) model.JobID {
	t.Helper()
	var jobs map[model.JobID]model.Job
	e.expect(e.do("GET", "/jobs?q=foo:1", nil), http.StatusOK, "", &jobs)
	if len(jobs) != 1 {
		t.Fatalf("want one foo:1 job, got %v", jobs)
	}
	for id := range jobs {
		return id
	}
	return ""
}

func TestConcurrentCreateOnlyOneWins(t *testing.T) {
	e := newEnv(t)
	const n = 20
	statuses := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.send("POST", "/jobs", busybox)
			if err != nil {
				statuses[i] = err.Error()
				return
			}
			var cr model.CreateJobResponse
			if err := json.Unmarshal(r.body, &cr); err != nil {
				statuses[i] = "undecodable: " + string(r.body)
				return
			}
			statuses[i] = cr.Status
		}()
	}
	wg.Wait()
	ok, exists := 0, 0
	for _, s := range statuses {
		switch s {
		case model.StatusOK:
			ok++
		case model.StatusJobAlreadyExists:
			exists++
		default:
			t.Errorf("unexpected status %q", s)
		}
	}
	if ok != 1 || exists != n-1 {
		t.Fatalf("got %d OK and %d JOB_ALREADY_EXISTS, want 1 and %d", ok, exists, n-1)
	}
}

func TestGetJobNotFound(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{
		"/jobs/foo:1:" + strings.Repeat("a", 40), // well-formed, unknown
		"/jobs/foo:1",                            // not a full id
		"/jobs/foo:1:xyz",                        // bad hash
	} {
		var er model.ErrorResponse
		e.expect(e.do("GET", path, nil), http.StatusNotFound, model.StatusJobNotFound, &er)
		if er.Message == "" {
			t.Errorf("GET %s: 404 without a message", path)
		}
	}
}

func TestListJobsFiltersByQueryAndHost(t *testing.T) {
	e := newEnv(t)
	foo1 := e.createJob(`{"id":"foo:1","image":"busybox"}`)
	foo2 := e.createJob(`{"id":"foo:2","image":"busybox"}`)
	bar1 := e.createJob(`{"id":"bar:1","image":"busybox"}`)
	foobar := e.createJob(`{"id":"foobar:1","image":"busybox"}`)
	e.registerHost("web-1")
	e.registerHost("db-1")
	e.expect(e.do("PUT", "/hosts/web-1/jobs/"+string(foo1), `{}`), http.StatusOK, model.StatusOK, nil)
	e.expect(e.do("PUT", "/hosts/db-1/jobs/"+string(bar1), `{}`), http.StatusOK, model.StatusOK, nil)

	cases := []struct {
		query string
		want  []model.JobID
	}{
		{"", []model.JobID{foo1, foo2, bar1, foobar}},
		{"?q=foo", []model.JobID{foo1, foo2, foobar}},
		{"?q=foo:1", []model.JobID{foo1}},
		{"?q=" + string(foo2)[:10], []model.JobID{foo2}},
		{"?q=oba", []model.JobID{foobar}},
		{"?q=nothing", nil},
		{"?hostPattern=web", []model.JobID{foo1}},
		{"?hostPattern=-1", []model.JobID{foo1, bar1}},
		{"?hostPattern=-1&q=bar", []model.JobID{bar1}},
		{"?hostPattern=nohost", nil},
	}
	for _, c := range cases {
		var jobs map[model.JobID]model.Job
		e.expect(e.do("GET", "/jobs"+c.query, nil), http.StatusOK, "", &jobs)
		var got []model.JobID
		for id, j := range jobs {
			if j.ID != id {
				t.Errorf("%s: key %s holds job %s", c.query, id, j.ID)
			}
			got = append(got, id)
		}
		slices.Sort(got)
		slices.Sort(c.want)
		if !slices.Equal(got, c.want) {
			t.Errorf("GET /jobs%s = %v, want %v", c.query, got, c.want)
		}
	}
}

func TestMatchesJobQuery(t *testing.T) {
	id := model.JobID("foo:1.0:0123456789abcdef0123456789abcdef01234567")
	cases := []struct {
		q    string
		want bool
	}{
		{"", true},
		{"foo", true},
		{"fo", true},
		{"oo", true},    // name contains
		{"foo:1", true}, // prefix
		{"foo:1.0:0123", true},
		{"foo:1.0:1", false},
		{"oo:1", false}, // with ':' only prefixes count
		{"foo:2", false},
		{"bar", false},
		{"1.0", false}, // the version alone is not the name
	}
	for _, c := range cases {
		if got := matchesJobQuery(id, c.q); got != c.want {
			t.Errorf("matchesJobQuery(%q) = %v, want %v", c.q, got, c.want)
		}
	}
}

func TestRemoveJob(t *testing.T) {
	e := newEnv(t)
	id := e.createJob(`{"id":"tok:1","image":"busybox","token":"s3cret"}`)
	e.registerHost("h1")
	e.expect(e.do("PUT", "/hosts/h1/jobs/"+string(id)+"?token=s3cret", `{}`), http.StatusOK, model.StatusOK, nil)

	before := e.revision()
	e.expect(e.do("DELETE", "/jobs/"+string(id)+"?token=wrong", nil), http.StatusForbidden, model.StatusForbidden, nil)
	e.expect(e.do("DELETE", "/jobs/"+string(id)+"?token=s3cret", nil), http.StatusBadRequest, model.StatusStillInUse, nil)
	if after := e.revision(); after != before {
		t.Fatalf("refused removals wrote to etcd: revision %d -> %d", before, after)
	}

	e.expect(e.do("DELETE", "/hosts/h1/jobs/"+string(id)+"?token=s3cret", nil), http.StatusOK, model.StatusOK, nil)
	e.expect(e.do("DELETE", "/jobs/"+string(id)+"?token=s3cret", nil), http.StatusOK, model.StatusOK, nil)
	e.expect(e.do("GET", "/jobs/"+string(id), nil), http.StatusNotFound, model.StatusJobNotFound, nil)
	e.expect(e.do("DELETE", "/jobs/"+string(id)+"?token=s3cret", nil), http.StatusNotFound, model.StatusJobNotFound, nil)
	e.expect(e.do("DELETE", "/jobs/notanid", nil), http.StatusNotFound, model.StatusJobNotFound, nil)
}

func TestJobStatusAndBulkStatuses(t *testing.T) {
	e := newEnv(t)
	a := e.createJob(`{"id":"a:1","image":"busybox"}`)
	b := e.createJob(`{"id":"b:1","image":"busybox"}`)
	e.registerHost("h1")
	e.expect(e.do("PUT", "/hosts/h1/jobs/"+string(a), `{"goal":"STOP"}`), http.StatusOK, model.StatusOK, nil)
	if err := e.store.SetTaskStatus(ctxT(t), "h1", a, model.TaskStatus{Goal: model.GoalStop, State: model.StateStopped, Throttled: model.ThrottleNo}, true); err != nil {
		t.Fatal(err)
	}

	var st model.JobStatus
	e.expect(e.do("GET", "/jobs/"+string(a)+"/status", nil), http.StatusOK, "", &st)
	if st.Job == nil || st.Job.ID != a {
		t.Fatalf("status job = %+v", st.Job)
	}
	if d := st.Deployments["h1"]; d.Goal != model.GoalStop || d.JobID != a {
		t.Fatalf("deployments = %+v", st.Deployments)
	}
	if ts := st.TaskStatuses["h1"]; ts.State != model.StateStopped {
		t.Fatalf("taskStatuses = %+v", st.TaskStatuses)
	}
	e.expect(e.do("GET", "/jobs/a:1:"+strings.Repeat("f", 40)+"/status", nil), http.StatusNotFound, model.StatusJobNotFound, nil)

	var bulk map[model.JobID]model.JobStatus
	unknown := "zzz:1:" + strings.Repeat("f", 40)
	e.expect(e.do("POST", "/jobs/statuses", []string{string(a), string(b), unknown, "garbage"}), http.StatusOK, "", &bulk)
	if len(bulk) != 2 || bulk[a].Job == nil || bulk[b].Job == nil {
		t.Fatalf("bulk statuses = %+v", bulk)
	}
	if bulk[b].Deployments == nil {
		t.Fatalf("job without deployments should have deployments {}: %+v", bulk[b])
	}
	e.expect(e.do("POST", "/jobs/statuses", `{"not":"a list"}`), http.StatusBadRequest, model.StatusBadRequest, nil)
}

func TestJobHistory(t *testing.T) {
	e := newEnv(t)
	id := e.createJob(`{"id":"hist:1","image":"busybox"}`)
	e.registerHost("h1")
	e.expect(e.do("PUT", "/hosts/h1/jobs/"+string(id), `{}`), http.StatusOK, model.StatusOK, nil)

	var empty model.TaskStatusEvents
	r := e.do("GET", "/history/jobs/"+string(id), nil)
	e.expect(r, http.StatusOK, "", &empty)
	if empty.Events == nil || len(empty.Events) != 0 || !strings.Contains(string(r.body), `"events":[]`) {
		t.Fatalf("history of a job without events: %s", r.body)
	}

	states := []model.State{model.StatePullingImage, model.StateCreating, model.StateStarting, model.StateRunning}
	for _, s := range states {
		if err := e.store.SetTaskStatus(ctxT(t), "h1", id, model.TaskStatus{Goal: model.GoalStart, State: s, Throttled: model.ThrottleNo}, true); err != nil {
			t.Fatal(err)
		}
	}
	var hist model.TaskStatusEvents
	e.expect(e.do("GET", "/history/jobs/"+string(id), nil), http.StatusOK, "", &hist)
	if len(hist.Events) != len(states) {
		t.Fatalf("got %d events, want %d: %+v", len(hist.Events), len(states), hist.Events)
	}
	for i, ev := range hist.Events {
		if ev.Status.State != states[i] || ev.Host != "h1" {
			t.Errorf("event %d = %s on %s, want %s on h1", i, ev.Status.State, ev.Host, states[i])
		}
		if i > 0 && ev.Timestamp < hist.Events[i-1].Timestamp {
			t.Errorf("events not sorted by time: %d before %d", hist.Events[i-1].Timestamp, ev.Timestamp)
		}
	}

	e.expect(e.do("GET", "/history/jobs/nope:1:"+strings.Repeat("a", 40), nil), http.StatusNotFound, model.StatusJobNotFound, nil)
	e.expect(e.do("GET", "/history/jobs/nope", nil), http.StatusNotFound, model.StatusJobNotFound, nil)
}
