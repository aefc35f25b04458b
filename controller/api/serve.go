package api

import (
	"bytes"
	"context"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

// routeOther labels requests that matched no registered pattern (404, 405, redirects), so
// that scanners cannot grow the metrics without bound.
const routeOther = "other"

// serveHTTP wraps the mux: version header, body limit, JSON 404/405, metrics and the
// request log.
func (s *server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header().Set(model.HeaderServerVersion, s.cfg.Version)
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	rec := &statusRecorder{ResponseWriter: w}

	// The mux answers unknown routes and wrong methods in plain text; ask it first which
	// case this is, and answer those in JSON like every other error.
	h, pattern := s.mux.Handler(r)
	if !s.streams[pattern] {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestDeadline)
		defer cancel()
		r = r.WithContext(ctx)
	}
	refusedCode, status, why := s.browserRefusal(r)
	var allowed bool
	switch {
	case refusedCode != 0:
		writeJSON(rec, refusedCode, model.ErrorResponse{Status: status, Message: why})
	case invalidUTF8(r) != "":
		writeJSON(rec, http.StatusBadRequest, model.ErrorResponse{Status: model.StatusBadRequest, Message: invalidUTF8(r) + " is not valid UTF-8"})
	default:
		r, allowed = s.authorize(rec, r, pattern)
	}
	if !allowed {
		// answered above
	} else if pattern == "" {
		probe := &probeWriter{header: http.Header{}}
		h.ServeHTTP(probe, r)
		switch probe.code {
		case http.StatusMethodNotAllowed:
			rec.Header().Set("Allow", probe.header.Get("Allow"))
			writeJSON(rec, http.StatusMethodNotAllowed, model.ErrorResponse{
				Status:  model.StatusMethodNotAllowed,
				Message: "method " + r.Method + " not allowed on " + r.URL.Path + "; allowed: " + probe.header.Get("Allow"),
			})
		default:
			writeJSON(rec, http.StatusNotFound, model.ErrorResponse{
				Status:  model.StatusNotFound,
				Message: "no such endpoint: " + r.Method + " " + r.URL.Path,
			})
		}
	} else if s.hidesTokens(r) && s.streams[pattern] {
		s.mux.ServeHTTP(&tokenHider{ResponseWriter: rec}, r)
	} else if s.hidesTokens(r) {
		// An answer may be written in pieces (GET /jobs streams its pages): hide the tokens
		// in the whole of it.
		buf := &bufferedAnswer{header: rec.Header()}
		s.mux.ServeHTTP(buf, r)
		rec.Header().Del("Content-Length")
		rec.WriteHeader(max(buf.code, http.StatusOK))
		_, _ = rec.Write(hideTokensInLines(buf.body.Bytes())) // a broken connection has nobody to tell
	} else {
		s.mux.ServeHTTP(rec, r)
	}

	route := routeOther
	if s.routes[pattern] && allowed {
		route = pattern
	}
	method := methodLabel(r.Method)
	code := rec.code
	if code == 0 {
		code = http.StatusOK
	}
	elapsed := time.Since(start)
	s.metrics.observe(route, method, code, elapsed, s.streams[route])
	s.log.Debug("request",
		zap.String("method", r.Method),
		zap.String("path", r.URL.Path),
		zap.String("route", route),
		zap.Int("code", code),
		zap.Duration("duration", elapsed),
		zap.String("remote-addr", r.RemoteAddr))
}

// invalidUTF8 names the part of the request's URL that is not valid UTF-8, "" when all is.
// (Bodies are checked where they are read.) Names with broken bytes would otherwise reach
// etcd keys and container labels.
func invalidUTF8(r *http.Request) string {
	if !utf8.ValidString(r.URL.Path) {
		return "the path"
	}
	for k, vs := range r.URL.Query() {
		if !utf8.ValidString(k) {
			return "a query parameter name"
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return "query parameter " + k
			}
		}
	}
	return ""
}

// methodLabel keeps the method label to the methods HTTP defines.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flush, deadlines).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// tokenHider writes JSON documents (one per line: answers and stream lines alike) with
// every job token replaced by model.HiddenToken.
type tokenHider struct {
	http.ResponseWriter
}

func (t *tokenHider) Write(b []byte) (int, error) {
	if _, err := t.ResponseWriter.Write(hideTokensInLines(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// hideTokensInLines hides the tokens of each JSON document of b, one per line.
func hideTokensInLines(b []byte) []byte {
	if !bytes.Contains(b, []byte(`"token"`)) {
		return b
	}
	lines := bytes.Split(b, []byte{'\n'})
	for i, l := range lines {
		if len(bytes.TrimSpace(l)) > 0 && bytes.Contains(l, []byte(`"token"`)) {
			lines[i] = hideTokens(l)
		}
	}
	return bytes.Join(lines, []byte{'\n'})
}

// bufferedAnswer keeps a whole answer, to be rewritten before it is sent.
type bufferedAnswer struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedAnswer) Header() http.Header { return b.header }
func (b *bufferedAnswer) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}
func (b *bufferedAnswer) Write(p []byte) (int, error) { return b.body.Write(p) }

// Unwrap lets http.ResponseController reach the connection (flush, deadlines).
func (t *tokenHider) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// probeWriter captures what the mux's own 404/405 handler would answer, and discards it.
type probeWriter struct {
	header http.Header
	code   int
}

func (p *probeWriter) Header() http.Header { return p.header }
func (p *probeWriter) WriteHeader(code int) {
	if p.code == 0 {
		p.code = code
	}
}
func (p *probeWriter) Write(b []byte) (int, error) {
	if p.code == 0 {
		p.code = http.StatusOK
	}
	return len(b), nil
}
