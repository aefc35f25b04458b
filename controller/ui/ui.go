package ui

import (
	"embed"
	"io/fs"
	"net/http"
)

// Prefix is the path under which the dashboard is served.
const Prefix = "/ui/"

//go:embed static
var static embed.FS

// Handler serves the dashboard's files under Prefix.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// The directory is embedded at build time: a missing one is a broken build.
		panic("ui: embedded static directory missing: " + err.Error())
	}
	files := http.StripPrefix(Prefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The page loads only its own files and talks only to its own master; no other
		// site may frame it (clickjacking of the action buttons).
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// A new master version must not be mixed with a cached page of the old one.
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
