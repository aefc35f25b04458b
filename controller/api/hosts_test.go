package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
)

func TestListHostsByNameAndSelector(t *testing.T) {
	e := newEnv(t)
	labels := map[string]map[string]string{
		"web-1": {"role": "web", "zone": "a"},
		"web-2": {"role": "web", "zone": "b"},
		"db-1":  {"role": "db", "zone": "a"},
		"bare":  nil, // no labels: matches no selector, not even != or notin
	}
	for h, l := range labels {
		e.registerHost(h)
		if l != nil {
			if err := e.store.PutHostLabels(ctxT(t), h, l); err != nil {
				t.Fatal(err)
			}
		}
	}

	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{"bare", "db-1", "web-1", "web-2"}},
		{"?namePattern=web", []string{"web-1", "web-2"}},
		{"?namePattern=-1", []string{"db-1", "web-1"}},
		{"?namePattern=none", []string{}},
		{"?selector=" + url.QueryEscape("role=web"), []string{"web-1", "web-2"}},
		{"?selector=" + url.QueryEscape("role!=web"), []string{"db-1"}},
		{"?selector=" + url.QueryEscape("zone in (a, c)"), []string{"db-1", "web-1"}},
		{"?selector=" + url.QueryEscape("zone notin (a)"), []string{"web-2"}},
		{"?selector=" + url.QueryEscape("role=web") + "&selector=" + url.QueryEscape("zone=a"), []string{"web-1"}},
		{"?namePattern=db&selector=" + url.QueryEscape("role=web"), []string{}},
	}
	for _, c := range cases {
		var got []string
		r := e.do("GET", "/hosts"+c.query, nil)
		e.expect(r, http.StatusOK, "", &got)
		if !slices.Equal(got, c.want) || got == nil {
			t.Errorf("GET /hosts%s = %s, want %v", c.query, r.body, c.want)
		}
	}

	var er model.ErrorResponse
	e.expect(e.do("GET", "/hosts?selector="+url.QueryEscape("role=="), nil), http.StatusBadRequest, model.StatusBadRequest, &er)
	if !strings.Contains(er.Message, "role==") {
		t.Fatalf("bad selector message %q does not quote the selector", er.Message)
	}
}

func TestRegisterAndDeregisterHost(t *testing.T) {
	e := newEnv(t)
	before := e.revision()
	e.expect(e.do("PUT", "/hosts/h1", nil), http.StatusBadRequest, model.StatusBadRequest, nil)
	if e.revision() != before {
		t.Fatal("registration without id wrote to etcd")
	}
	var rr model.HostRegisterResponse
	e.expect(e.do("PUT", "/hosts/h1?id=abc", nil), http.StatusOK, model.StatusOK, &rr)
	if rr.Host != "h1" {
		t.Fatalf("register response %+v", rr)
	}
	// The same id again is fine (an agent restarting).
	e.expect(e.do("PUT", "/hosts/h1?id=abc", nil), http.StatusOK, model.StatusOK, nil)

	var st model.HostStatus
	e.expect(e.do("GET", "/hosts/h1/status", nil), http.StatusOK, "", &st)
	if st.Status != model.HostDown || st.Jobs == nil || st.Statuses == nil {
		t.Fatalf("status of a registered host without agent: %+v", st)
	}
	e.expect(e.do("GET", "/hosts/nope/status", nil), http.StatusNotFound, model.StatusHostNotFound, nil)

	var dr model.HostDeregisterResponse
	e.expect(e.do("DELETE", "/hosts/h1", nil), http.StatusOK, model.StatusOK, &dr)
	if dr.Host != "h1" {
		t.Fatalf("deregister response %+v", dr)
	}
	e.expect(e.do("DELETE", "/hosts/h1", nil), http.StatusNotFound, model.StatusNotFound, nil)
	e.expect(e.do("GET", "/hosts/h1/status", nil), http.StatusNotFound, model.StatusHostNotFound, nil)
}

func TestBulkHostStatuses(t *testing.T) {
	e := newEnv(t)
	e.registerHost("h1")
	e.registerHost("h2")
	if err := e.store.PutHostLabels(ctxT(t), "h2", map[string]string{"role": "db"}); err != nil {
		t.Fatal(err)
	}
	var got map[string]model.HostStatus
	e.expect(e.do("POST", "/hosts/statuses", []string{"h2", "unknown", "bad/name", ""}), http.StatusOK, "", &got)
	if len(got) != 1 || got["h2"].Labels["role"] != "db" {
		t.Fatalf("bulk statuses = %+v", got)
	}
	// An empty list asks for nothing, not for every host.
	var none map[string]model.HostStatus
	e.expect(e.do("POST", "/hosts/statuses", `[]`), http.StatusOK, "", &none)
	if none == nil || len(none) != 0 {
		t.Fatalf("empty request answered %+v", none)
	}
	e.expect(e.do("POST", "/hosts/statuses", ``), http.StatusBadRequest, model.StatusBadRequest, nil)
}

// "environment" is always in a host's status, {} when the agent passes none (or has not
// reported yet), as the docs and the original have it.
func TestHostStatusAlwaysHasEnvironment(t *testing.T) {
	e := newEnv(t)
	e.registerHost("bare")
	e.registerHost("empty")
	e.registerHost("set")
	if err := e.store.PutHostEnvironment(ctxT(t), "empty", map[string]string{}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutHostEnvironment(ctxT(t), "set", map[string]string{"A": "1"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"bare": `{}`, "empty": `{}`, "set": `{"A":"1"}`}
	for host, env := range want {
		var got map[string]json.RawMessage
		e.expect(e.do("GET", "/hosts/"+host+"/status", nil), http.StatusOK, "", &got)
		if string(got["environment"]) != env {
			t.Errorf("GET /hosts/%s/status environment = %s, want %s", host, got["environment"], env)
		}
	}
	var bulk map[string]map[string]json.RawMessage
	e.expect(e.do("POST", "/hosts/statuses", []string{"bare", "empty", "set"}), http.StatusOK, "", &bulk)
	for host, env := range want {
		if string(bulk[host]["environment"]) != env {
			t.Errorf("POST /hosts/statuses %s environment = %s, want %s", host, bulk[host]["environment"], env)
		}
	}
}
