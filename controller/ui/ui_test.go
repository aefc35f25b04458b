package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerServesEmbeddedFiles(t *testing.T) {
	h := Handler()
	for path, want := range map[string]string{
		"/ui/":          "text/html",
		"/ui/app.js":    "javascript",
		"/ui/style.css": "text/css",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, rec.Code)
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, want) {
			t.Errorf("GET %s: Content-Type %q, want %s", path, ct, want)
		}
		if rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: may be framed", path)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ui/missing.js", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /ui/missing.js: %d, want 404", rec.Code)
	}
}

// The page must never keep the token where the browser would send it by itself.
func TestAppKeepsTokenOutOfCookies(t *testing.T) {
	js, err := static.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"document.cookie", "localStorage", "new EventSource", "innerHTML"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
	if !strings.Contains(string(js), `credentials: "omit"`) {
		t.Errorf("app.js fetches without credentials: \"omit\"")
	}
}
