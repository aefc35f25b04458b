package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// Host names follow DNS rules at registration; nothing is written for a bad one.
func TestRegisterRefusesNamesThatAreNotDNSNames(t *testing.T) {
	e := newEnv(t)
	before := e.revision()
	for _, name := range []string{"web%2A", "web%0A1", "web%201", "web_1", "-web", "web..x", strings.Repeat("a", 64), strings.Repeat("a.", 130) + "a"} {
		var er model.ErrorResponse
		e.expect(e.do("PUT", "/hosts/"+name+"?id=x", nil), http.StatusBadRequest, model.StatusBadRequest, &er)
		if !strings.Contains(er.Message, "invalid host name") {
			t.Errorf("%s: message %q does not say the host name is invalid", name, er.Message)
		}
	}
	if e.revision() != before {
		t.Fatal("a refused registration wrote to etcd")
	}
	e.expect(e.do("PUT", "/hosts/web-1.example.com?id=x", nil), http.StatusOK, model.StatusOK, nil)
}

// Invalid UTF-8 anywhere in a request is refused before anything is read or written.
func TestInvalidUTF8IsABadRequest(t *testing.T) {
	e := newEnv(t)
	before := e.revision()
	for _, tc := range []struct{ method, path, body string }{
		{"PUT", "/hosts/w%ff?id=x", ""},
		{"PUT", "/hosts/web1?id=%ff", ""},
		{"POST", "/jobs", "{\"id\":\"a:1\",\"image\":\"busybox\",\"env\":{\"K\":\"\xff\"}}"},
		{"POST", "/hosts/statuses", "[\"\xfe\"]"},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		var er model.ErrorResponse
		e.expect(e.do(tc.method, tc.path, body), http.StatusBadRequest, model.StatusBadRequest, &er)
		if !strings.Contains(er.Message, "UTF-8") {
			t.Errorf("%s %s: message %q does not name UTF-8", tc.method, tc.path, er.Message)
		}
	}
	if e.revision() != before {
		t.Fatal("a request with invalid UTF-8 wrote to etcd")
	}
}

// An UP host is deregistered only when the caller says allowUp=true.
func TestDeregisterOfAnUpHostNeedsAllowUp(t *testing.T) {
	e := newEnv(t)
	e.registerHost("h1")
	lease, err := e.cli.Grant(ctxT(t), 60)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutUp(ctxT(t), "h1", store.LeaseID(lease.ID)); err != nil {
		t.Fatal(err)
	}
	before := e.revision()
	var dr model.HostDeregisterResponse
	e.expect(e.do("DELETE", "/hosts/h1", nil), http.StatusConflict, model.StatusHostUp, &dr)
	if !strings.Contains(dr.Message, "--allow-up") || e.revision() != before {
		t.Fatalf("refusal %+v (revision %d -> %d): want a message naming --allow-up and nothing written", dr, before, e.revision())
	}
	e.expect(e.do("DELETE", "/hosts/h1?allowUp=maybe", nil), http.StatusBadRequest, model.StatusBadRequest, nil)
	e.expect(e.do("DELETE", "/hosts/h1?allowUp=true", nil), http.StatusOK, model.StatusOK, nil)
	e.expect(e.do("GET", "/hosts/h1/status", nil), http.StatusNotFound, model.StatusHostNotFound, nil)
}
