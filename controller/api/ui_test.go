package api

import (
	"net/http"
	"strings"
	"testing"
)

// The dashboard's files need no role, even with authentication on; the API calls the page
// makes still do, and a foreign Origin is still refused.
func TestUIServedWithoutRoleButAPIStillChecked(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Tokens = testTokens })
	for _, p := range []string{"/ui/", "/ui/app.js", "/ui/style.css"} {
		r := e.do("GET", p, nil)
		if r.code != http.StatusOK {
			t.Fatalf("GET %s without a token: %d %s", p, r.code, r.body)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q does not forbid framing", p, csp)
		}
	}
	if r := e.do("GET", "/ui/", nil); !strings.Contains(string(r.body), "<title>Helios dashboard</title>") {
		t.Errorf("GET /ui/ is not the dashboard: %.200s", r.body)
	}
	if r := e.do("GET", "/hosts", nil); r.code != http.StatusUnauthorized {
		t.Errorf("GET /hosts without a token: %d, want 401", r.code)
	}
	r, err := e.sendWith("GET", "/ui/", nil, func(req *http.Request) { req.Header.Set("Origin", "http://evil.example") })
	if err != nil {
		t.Fatal(err)
	}
	if r.code != http.StatusForbidden {
		t.Errorf("GET /ui/ from a foreign origin: %d, want 403", r.code)
	}
	if r := e.do("POST", "/ui/", nil); r.code != http.StatusMethodNotAllowed && r.code != http.StatusUnauthorized {
		t.Errorf("POST /ui/: %d, want 405 or 401", r.code)
	}
}
