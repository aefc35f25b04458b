package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
)

var testTokens = map[string]model.Principal{
	"reader-token-0123456789":   {User: "rita", Role: model.RoleReader},
	"deployer-token-0123456789": {User: "dave", Role: model.RoleDeployer},
	"admin-token-0123456789":    {User: "ada", Role: model.RoleAdmin},
}

// doAs sends a request with a bearer token ("" for none).
func (e *env) doAs(token, method, path string, body any) response {
	e.t.Helper()
	r, err := e.sendWith(method, path, body, func(req *http.Request) {
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// Every registered route, for each role: reads need reader, the deployment flow deployer,
// the rest admin; no token is 401, too little a role 403 PERMISSION_DENIED (not FORBIDDEN,
// the job token's word).
func TestEveryRouteNeedsItsRole(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Tokens = testTokens })
	srv, err := newServer(Config{Store: e.store})
	if err != nil {
		t.Fatal(err)
	}
	for pattern := range srv.routes {
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.NewReplacer("{id}", "j:1:"+strings.Repeat("0", 40), "{host}", "h1", "{name}", "g", "{$}", "").Replace(path)
		need := model.RouteRole(pattern)
		if pattern == "GET /metrics" || pattern == uiRoute {
			continue // readable without authentication: Prometheus; the dashboard's files (ui_test.go)
		}
		if r := e.doAs("", method, path, nil); r.code != http.StatusUnauthorized || !strings.Contains(string(r.body), statusUnauthenticated) {
			t.Errorf("%s without a token: %d %s, want 401 UNAUTHENTICATED", pattern, r.code, r.body)
		}
		if r := e.doAs("not-a-known-token-at-all", method, path, nil); r.code != http.StatusUnauthorized {
			t.Errorf("%s with an unknown token: %d, want 401", pattern, r.code)
		}
		for token, who := range testTokens {
			r := e.doAs(token, method, path, nil)
			denied := r.code == http.StatusForbidden && strings.Contains(string(r.body), statusPermissionDenied)
			if who.Role.Allows(need) == denied {
				t.Errorf("%s as %s (%s): %d %s; the route needs %s", pattern, who.User, who.Role, r.code, r.body, need)
			}
		}
	}
}

// The authenticated user, not ?user=, is the job's creatingUser.
func TestAuthenticatedUserReplacesTheUserParameter(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Tokens = testTokens })
	var resp model.CreateJobResponse
	e.expect(e.doAs("deployer-token-0123456789", "POST", "/jobs?user=mallory", `{"id":"u:1","image":"busybox"}`), http.StatusOK, model.StatusOK, &resp)
	var job model.Job
	e.expect(e.doAs("deployer-token-0123456789", "GET", "/jobs/"+string(resp.ID), nil), http.StatusOK, "", &job)
	if job.CreatingUser != "dave" {
		t.Fatalf("creatingUser %q, want the token's user dave", job.CreatingUser)
	}
}

// A page of another site cannot use the API from a browser.
func TestBrowserRequestsFromElsewhereAreRefused(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoopbackOnly = true })
	before := e.revision()
	for _, tc := range []struct {
		name   string
		header map[string]string
		body   string
		code   int
		status string
	}{
		{"form body", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, `{"id":"a:1","image":"busybox"}`, http.StatusUnsupportedMediaType, statusUnsupportedMedia},
		{"text body", map[string]string{"Content-Type": "text/plain"}, `{"id":"a:1","image":"busybox"}`, http.StatusUnsupportedMediaType, statusUnsupportedMedia},
		{"foreign origin", map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, `{"id":"a:1","image":"busybox"}`, http.StatusForbidden, statusForeignOrigin},
		{"rebound host", map[string]string{"Content-Type": "application/json", "Host": "evil.example:5801"}, `{"id":"a:1","image":"busybox"}`, http.StatusForbidden, statusUnexpectedHost},
	} {
		r, err := e.sendWith("POST", "/jobs", tc.body, func(req *http.Request) {
			for k, v := range tc.header {
				if k == "Host" {
					req.Host = v
				} else {
					req.Header.Set(k, v)
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.code != tc.code || !strings.Contains(string(r.body), tc.status) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.code, r.body, tc.code, tc.status)
		}
	}
	if e.revision() != before {
		t.Fatal("a refused browser request wrote to etcd")
	}
	// The CLI's requests (JSON, no Origin, a loopback Host) are served.
	e.expect(e.do("POST", "/jobs", `{"id":"a:1","image":"busybox"}`), http.StatusOK, model.StatusOK, nil)
}
