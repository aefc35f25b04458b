package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// *store.Store is what the master hands the API.
var _ Store = (*store.Store)(nil)

// testNow is the master's clock in tests: jobs get this creation time.
var testNow = time.UnixMilli(1_700_000_000_000)

const testVersion = "0.9.0-test"

// env is one API server over a real embedded etcd.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	cli   *clientv3.Client
	etcd  *store.Embedded
	store *store.Store
	reg   *prometheus.Registry
}

func newEnv(t *testing.T, mutate ...func(*Config)) *env {
	t.Helper()
	cli, emb := storetest.NewEtcd(t)
	st := storetest.Open(t, emb, store.Config{RequestTimeout: 2 * time.Second})
	reg := prometheus.NewRegistry()
	cfg := Config{
		Store:      st,
		Registerer: reg,
		Gatherer:   reg,
		Version:    testVersion,
		MasterName: "master-a",
		Now:        func() time.Time { return testNow },
	}
	for _, m := range mutate {
		m(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, cli: cli, etcd: emb, store: st, reg: reg}
}

// response is what a request got back.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// do sends body (a string or []byte as is, anything else as JSON; nil for none).
func (e *env) do(method, path string, body any) response {
	e.t.Helper()
	r, err := e.send(method, path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// send is do for goroutines other than the test's, which must not call t.Fatal.
func (e *env) send(method, path string, body any) (response, error) {
	return e.sendWith(method, path, body, nil)
}

// sendWith is send with a hook to change the request (headers, Host) before it goes.
func (e *env) sendWith(method, path string, body any, edit func(*http.Request)) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, fmt.Errorf("encode body: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, rd)
	if err != nil {
		return response{}, fmt.Errorf("new request: %w", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if edit != nil {
		edit(req)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: data}, nil
}

// expect checks the HTTP code and the body's "status" word, and decodes the body into out.
func (e *env) expect(r response, code int, status string, out any) {
	e.t.Helper()
	if r.code != code {
		e.t.Fatalf("got HTTP %d, want %d; body %s", r.code, code, r.body)
	}
	if status != "" {
		var s struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(r.body, &s); err != nil {
			e.t.Fatalf("body is not JSON: %v: %s", err, r.body)
		}
		if s.Status != status {
			e.t.Fatalf("got status %q, want %q; body %s", s.Status, status, r.body)
		}
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			e.t.Fatalf("decode body into %T: %v: %s", out, err, r.body)
		}
	}
}

// revision is etcd's current revision: unchanged means nothing was written.
func (e *env) revision() int64 {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := e.cli.Get(ctx, "x")
	if err != nil {
		e.t.Fatalf("read revision: %v", err)
	}
	return resp.Header.Revision
}

// createJob posts a job and returns its id.
func (e *env) createJob(job string) model.JobID {
	e.t.Helper()
	var cr model.CreateJobResponse
	e.expect(e.do("POST", "/jobs?user=alice", job), http.StatusOK, model.StatusOK, &cr)
	return cr.ID
}

func (e *env) registerHost(host string) {
	e.t.Helper()
	e.expect(e.do("PUT", "/hosts/"+host+"?id=id-"+host, nil), http.StatusOK, model.StatusOK, nil)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
