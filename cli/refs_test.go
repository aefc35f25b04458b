package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

const (
	h1 = "1111111111111111111111111111111111111111"
	h2 = "2222222222222222222222222222222222222222"
)

func jobSet(ids ...string) map[model.JobID]model.Job {
	m := map[model.JobID]model.Job{}
	for _, id := range ids {
		m[model.JobID(id)] = model.Job{ID: model.JobID(id)}
	}
	return m
}

func TestPickJob(t *testing.T) {
	tests := []struct {
		ref    string
		jobs   map[model.JobID]model.Job
		want   string
		status string
	}{
		{"foo", jobSet("foo:1:" + h1), "foo:1:" + h1, ""},
		{"foo:1", jobSet("foo:1:"+h1, "foo:2:"+h2), "foo:1:" + h1, ""},
		{"foo", jobSet("foo:1:"+h1, "foo:2:"+h2), "", model.StatusAmbiguousJobRef},
		{"foo", jobSet("foo:1:"+h1, "foobar:1:"+h2), "foo:1:" + h1, ""},
		{"foo:1:2", jobSet("foo:1:"+h1, "foo:1:"+h2), "foo:1:" + h2, ""},
		{"foo:1", jobSet("foo:1:"+h1, "foo:1:"+h2), "", model.StatusAmbiguousJobRef},
		{"foo:1:" + h1, jobSet("foo:1:"+h1, "foo:1:"+h2), "foo:1:" + h1, ""},
		{"oob", jobSet("foobar:1:" + h1), "foobar:1:" + h1, ""},
		{"nope", jobSet(), "", model.StatusJobNotFound},
	}
	for _, tt := range tests {
		got, err := pickJob(tt.ref, tt.jobs)
		if tt.status != "" {
			var ae *apiError
			if !errors.As(err, &ae) || ae.Status != tt.status {
				t.Errorf("pickJob(%q) error %v, want %s", tt.ref, err, tt.status)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("pickJob(%q) = %q %v, want %q", tt.ref, got, err, tt.want)
		}
	}
	_, err := pickJob("nope", jobSet())
	if err.Error() != "Unknown job: nope" {
		t.Errorf("message %q", err)
	}
	_, err = pickJob("foo", jobSet("foo:1:"+h1, "foo:2:"+h2))
	if err.Error() != "Ambiguous job reference: foo" {
		t.Errorf("message %q", err)
	}
}

func TestPickHost(t *testing.T) {
	hosts := []string{"web1", "web10", "db.example.com"}
	for _, tt := range []struct {
		ref, want string
		found     bool
		err       bool
	}{
		{"web1", "web1", true, false},
		{"web10", "web10", true, false},
		{"db", "db.example.com", true, false},
		{"web", "", false, true},
		{"cache", "cache", false, false},
	} {
		got, found, err := pickHost(tt.ref, hosts)
		if got != tt.want || found != tt.found || (err != nil) != tt.err {
			t.Errorf("pickHost(%q) = %q %v %v", tt.ref, got, found, err)
		}
	}
}

// fakeMaster answers GET /jobs?q= from a fixed set, filtering by prefix like the master.
func fakeMaster(t *testing.T, jobs map[model.JobID]model.Job) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(model.HeaderClientVersion) == "" || r.URL.Query().Get("user") != "me" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		out := map[model.JobID]model.Job{}
		for id, j := range jobs {
			if strings.HasPrefix(string(id), r.URL.Query().Get("q")) {
				out[id] = j
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func testClient(uris ...string) *client {
	return &client{
		src: masterSource{URIs: uris, SRVName: "helios"}, resolver: newResolver(""), user: "me",
		http: &http.Client{Timeout: 5 * time.Second}, retryTimeout: 2 * time.Second,
		retryDelay: func(int) time.Duration { return 100 * time.Millisecond }, log: func(string, ...any) {},
	}
}

func TestResolveJobAgainstMaster(t *testing.T) {
	srv := fakeMaster(t, jobSet("foo:1:"+h1, "foo:2:"+h2, "bar:1:"+h1))
	c := testClient(srv.URL)
	id, err := c.resolveJob(context.Background(), "foo:2")
	if err != nil || string(id) != "foo:2:"+h2 {
		t.Fatalf("got %q %v", id, err)
	}
	if _, err := c.resolveJob(context.Background(), "foo"); !isStatus(err, model.StatusAmbiguousJobRef) {
		t.Fatalf("foo: %v", err)
	}
	if _, err := c.resolveJob(context.Background(), "baz"); !isStatus(err, model.StatusJobNotFound) {
		t.Fatalf("baz: %v", err)
	}
}

func TestClientRetriesUnavailableThenMovesOn(t *testing.T) {
	calls := 0
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer flaky.Close()
	good := fakeMaster(t, jobSet("foo:1:"+h1))
	c := testClient(flaky.URL, good.URL)
	for i := 0; i < 4; i++ {
		if _, err := c.jobs(context.Background(), ""); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if calls == 0 || calls > 4 {
		t.Fatalf("503 master called %d times, want it tried and then left", calls)
	}
}

func TestClientGivesUpAfterRetryTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close() // connection refused from now on
	c := testClient(url)
	c.retryTimeout = 500 * time.Millisecond
	start := time.Now()
	_, err := c.jobs(context.Background(), "")
	if !isStatus(err, statusUnavailable) || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}

func TestMasterSources(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, err := completeSource(masterSource{}, env(nil)); err == nil || err.Error() != "no masters specified.  Use the -z or -d option to specify which helios cluster/master to connect to" {
		t.Fatalf("no masters: %v", err)
	}
	src, err := completeSource(masterSource{}, env(map[string]string{"HELIOS_MASTER": "domain://example.net"}))
	if err != nil || len(src.Domains) != 1 || src.Domains[0] != "example.net" || src.SRVName != "helios" {
		t.Fatalf("domain: %+v %v", src, err)
	}
	src, err = completeSource(masterSource{}, env(map[string]string{"HELIOS_MASTER": "http://m:5801"}))
	if err != nil || len(src.URIs) != 1 {
		t.Fatalf("uri: %+v %v", src, err)
	}
	for _, bad := range []string{"m:5801", "ftp://m:21"} {
		if _, err := completeSource(masterSource{}, env(map[string]string{"HELIOS_MASTER": bad})); err == nil || !strings.Contains(err.Error(), "HELIOS_MASTER="+bad) {
			t.Fatalf("HELIOS_MASTER=%s: %v", bad, err)
		}
	}
	home := t.TempDir()
	writeFile(t, home+"/.helios/config", `{"masterEndpoints":["http://a:1"],"domains":["x.net"],"srvName":"hel"}`)
	// The file's endpoints win over its domains.
	src, err = completeSource(masterSource{}, env(map[string]string{"HOME": home}))
	if err != nil || len(src.URIs) != 1 || len(src.Domains) != 0 || src.SRVName != "hel" {
		t.Fatalf("config: %+v %v", src, err)
	}
	src, err = completeSource(masterSource{URIs: []string{"http://z:1"}, Domains: []string{"d.net"}}, env(map[string]string{"HOME": home}))
	if err != nil || src.URIs[0] != "http://z:1" || len(src.Domains) != 0 {
		t.Fatalf("-z must win over -d and the file: %+v %v", src, err)
	}
	// The file's srvName applies to -d and to HELIOS_MASTER domains; --srv-name wins.
	src, err = completeSource(masterSource{Domains: []string{"d.net"}}, env(map[string]string{"HOME": home}))
	if err != nil || src.Domains[0] != "d.net" || len(src.URIs) != 0 || src.SRVName != "hel" {
		t.Fatalf("-d: %+v %v", src, err)
	}
	src, err = completeSource(masterSource{}, env(map[string]string{"HOME": home, "HELIOS_MASTER": "domain://e.net"}))
	if err != nil || src.Domains[0] != "e.net" || len(src.URIs) != 0 || src.SRVName != "hel" {
		t.Fatalf("HELIOS_MASTER over the file: %+v %v", src, err)
	}
	src, err = completeSource(masterSource{Domains: []string{"d.net"}, SRVName: "other"}, env(map[string]string{"HOME": home}))
	if err != nil || src.SRVName != "other" {
		t.Fatalf("--srv-name: %+v %v", src, err)
	}
	writeFile(t, home+"/.helios/config", `{"domains":["x.net"]}`)
	src, err = completeSource(masterSource{}, env(map[string]string{"HOME": home}))
	if err != nil || src.Domains[0] != "x.net" || src.SRVName != "helios" {
		t.Fatalf("config domains: %+v %v", src, err)
	}
}

func TestUnresolvableDomainMessage(t *testing.T) {
	// A resolver pointed at a closed port fails every lookup.
	src := masterSource{Domains: []string{"nowhere.invalid"}, SRVName: "helios"}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := resolveMasters(ctx, src, newResolver("127.0.0.1:1"))
	if err == nil || err.Error() != "Failed to resolve helios master in nowhere.invalid (srv: helios)" {
		t.Fatalf("err %v", err)
	}
}
