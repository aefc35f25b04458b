package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

func TestUnknownRouteIsJSON404(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/no/such/thing", nil)
	var er model.ErrorResponse
	e.expect(r, http.StatusNotFound, model.StatusNotFound, &er)
	if !strings.Contains(er.Message, "/no/such/thing") {
		t.Fatalf("message %q does not name the path", er.Message)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	if v := r.header.Get(model.HeaderServerVersion); v != testVersion {
		t.Fatalf("404 carries %s %q, want %q", model.HeaderServerVersion, v, testVersion)
	}
}

func TestWrongMethodIsJSON405(t *testing.T) {
	e := newEnv(t)
	r := e.do("PATCH", "/jobs", nil)
	e.expect(r, http.StatusMethodNotAllowed, model.StatusMethodNotAllowed, nil)
	allow := r.header.Get("Allow")
	for _, m := range []string{"GET", "POST"} {
		if !strings.Contains(allow, m) {
			t.Fatalf("Allow %q lacks %s", allow, m)
		}
	}
}

func TestOversizedBodyIs413(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 512 })
	big := `{"id":"big:1","image":"busybox","env":{"X":"` + strings.Repeat("x", 1024) + `"}}`
	before := e.revision()
	e.expect(e.do("POST", "/jobs", big), http.StatusRequestEntityTooLarge, model.StatusRequestTooLarge, nil)
	e.expect(e.do("POST", "/hosts/statuses", `["`+strings.Repeat("h", 1024)+`"]`), http.StatusRequestEntityTooLarge, model.StatusRequestTooLarge, nil)
	if e.revision() != before {
		t.Fatal("oversized request wrote to etcd")
	}
	// Below the limit the same endpoint works.
	e.createJob(`{"id":"small:1","image":"busybox"}`)
}

func TestMalformedJSONIs400(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ method, path, body, mention string }{
		{"POST", "/jobs", `{"id": "x:1", "image": }`, "line"},
		{"POST", "/jobs/statuses", `["a:1",`, "unexpected end"},
		{"POST", "/hosts/statuses", `{"h1": true}`, "want"},
		{"POST", "/hosts/statuses", `["h1"] trailing`, "after the value"},
	}
	for _, c := range cases {
		var er model.ErrorResponse
		e.expect(e.do(c.method, c.path, c.body), http.StatusBadRequest, model.StatusBadRequest, &er)
		if !strings.Contains(er.Message, c.mention) {
			t.Errorf("%s %s %q: message %q does not mention %q", c.method, c.path, c.body, er.Message, c.mention)
		}
	}
}

func TestVersionAndHeader(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/version", nil)
	if r.code != http.StatusOK || string(r.body) != testVersion {
		t.Fatalf("GET /version = %d %q", r.code, r.body)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
	}
	for _, path := range []string{"/version", "/jobs", "/hosts", "/masters", "/metrics"} {
		if v := e.do("GET", path, nil).header.Get(model.HeaderServerVersion); v != testVersion {
			t.Errorf("GET %s: %s = %q", path, model.HeaderServerVersion, v)
		}
	}
}

func TestListMasters(t *testing.T) {
	e := newEnv(t)
	var names []string
	e.expect(e.do("GET", "/masters", nil), http.StatusOK, "", &names)
	if names == nil || len(names) != 0 {
		t.Fatalf("masters with none registered: %v", names)
	}
	lease, err := e.cli.Grant(ctxT(t), 60)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"m2", "m1"} {
		if err := e.store.PutMaster(ctxT(t), model.MasterInfo{Name: n, Version: testVersion}, store.LeaseID(lease.ID)); err != nil {
			t.Fatal(err)
		}
	}
	e.expect(e.do("GET", "/masters", nil), http.StatusOK, "", &names)
	if !slices.Equal(names, []string{"m1", "m2"}) {
		t.Fatalf("masters = %v", names)
	}
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	e := newEnv(t)
	e.createJob(`{"id":"m:1","image":"busybox"}`)
	e.do("GET", "/jobs/m:1:"+strings.Repeat("a", 40), nil)
	e.do("GET", "/jobs/m:1:"+strings.Repeat("b", 40), nil)
	e.do("GET", "/random/path/1", nil)
	e.do("GET", "/random/path/2", nil)

	body := string(e.do("GET", "/metrics", nil).body)
	for _, want := range []string{
		`helios_master_http_requests_total{code="200",method="POST",route="POST /jobs"} 1`,
		`helios_master_http_requests_total{code="404",method="GET",route="GET /jobs/{id}"} 2`,
		`helios_master_http_requests_total{code="404",method="GET",route="other"} 2`,
		`helios_master_http_request_duration_seconds_count{method="POST",route="POST /jobs"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "/random/path") {
		t.Error("raw paths leaked into metric labels")
	}
}

func TestNewRefusesDoubleRegistration(t *testing.T) {
	e := newEnv(t)
	if _, err := New(Config{Store: e.store, Registerer: e.reg}); err == nil {
		t.Fatal("second API on the same registry: want an error, got none")
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("no store: want an error, got none")
	}
	// Without a registerer there is nothing to collide on.
	if _, err := New(Config{Store: e.store}); err != nil {
		t.Fatal(err)
	}
}

func TestEtcdDownAnswers503(t *testing.T) {
	e := newEnv(t)
	e.createJob(`{"id":"x:1","image":"busybox"}`)
	e.etcd.Close()

	for _, c := range []struct{ method, path, body string }{
		{"GET", "/jobs", ""},
		{"POST", "/jobs", `{"id":"y:1","image":"busybox"}`},
		{"GET", "/hosts", ""},
		{"PUT", "/hosts/h1?id=a", ""},
	} {
		start := time.Now()
		var body any
		if c.body != "" {
			body = c.body
		}
		r := e.do(c.method, c.path, body)
		var er model.ErrorResponse
		e.expect(r, http.StatusServiceUnavailable, model.StatusServiceUnavailable, &er)
		if !strings.Contains(er.Message, "etcd unavailable") {
			t.Errorf("%s %s: message %q", c.method, c.path, er.Message)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s %s took %s to fail", c.method, c.path, d)
		}
	}
}
