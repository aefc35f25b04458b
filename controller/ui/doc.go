// Package ui holds the web dashboard every master serves at /ui/: plain HTML, CSS and
// JavaScript embedded in the binary, with no build step. The page is only a client of the
// REST API: it reads the same endpoints as the CLI, follows GET /events through fetch (so
// that it can send the bearer token as a header), and acts through the same routes, under
// the same authentication, Origin and Content-Type checks. The static files themselves
// hold nothing secret and need no role.
package ui
