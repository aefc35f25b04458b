package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/helios-go/helios/controller/ui"
	"github.com/helios-go/helios/model"
)

// Status words of authentication and of the browser protections (ours).
const (
	statusUnauthenticated  = "UNAUTHENTICATED"
	statusPermissionDenied = "PERMISSION_DENIED"
	statusForeignOrigin    = "FOREIGN_ORIGIN"
	statusUnexpectedHost   = "UNEXPECTED_HOST"
	statusUnsupportedMedia = "UNSUPPORTED_MEDIA_TYPE"
)

type principalKey struct{}

// uiRoute serves the dashboard's static files (controller/ui). They hold no data, so they
// need no role: the page asks for a token and sends it with each API call it makes.
const uiRoute = "GET " + ui.Prefix

// authRequired tells whether callers must authenticate: a token file or client
// certificates are configured.
func (s *server) authRequired() bool { return len(s.cfg.Tokens) > 0 || s.cfg.ClientCertAuth }

// authenticate finds who r comes from: a bearer token of the token file, or a verified
// client certificate (CN the user, the first O its role). ok is false when neither.
func (s *server) authenticate(r *http.Request) (model.Principal, bool, string) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, found := strings.CutPrefix(h, "Bearer ")
		if !found {
			return model.Principal{}, false, "the Authorization header must be \"Bearer <token>\""
		}
		// Every token is compared, in constant time, so timing tells nothing about them.
		var who model.Principal
		match := 0
		for t, p := range s.cfg.Tokens {
			if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
				who, match = p, 1
			}
		}
		if match == 0 {
			return model.Principal{}, false, "the bearer token is not known to this master"
		}
		return who, true, ""
	}
	if s.cfg.ClientCertAuth && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		cert := r.TLS.VerifiedChains[0][0]
		var org string
		if len(cert.Subject.Organization) > 0 {
			org = cert.Subject.Organization[0]
		}
		role, err := model.ParseRole(org)
		if err != nil || cert.Subject.CommonName == "" {
			return model.Principal{}, false, fmt.Sprintf("the client certificate of %q names no role in its organization (O=reader, deployer or admin)", cert.Subject.CommonName)
		}
		return model.Principal{User: cert.Subject.CommonName, Role: role}, true, ""
	}
	return model.Principal{}, false, "authentication required: a bearer token (helios --auth-token) or a client certificate"
}

// authorize answers (and returns false for) a request whose caller may not reach pattern.
func (s *server) authorize(w http.ResponseWriter, r *http.Request, pattern string) (*http.Request, bool) {
	if !s.authRequired() || pattern == "GET /metrics" && !s.cfg.MetricsAuth || pattern == uiRoute {
		return r, true
	}
	who, ok, why := s.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="helios"`)
		writeJSON(w, http.StatusUnauthorized, model.ErrorResponse{Status: statusUnauthenticated, Message: why})
		return r, false
	}
	if need := model.RouteRole(pattern); pattern != "" && !who.Role.Allows(need) {
		writeJSON(w, http.StatusForbidden, model.ErrorResponse{Status: statusPermissionDenied,
			Message: fmt.Sprintf("%s (%s) may not %s: it needs the %s role", who.User, who.Role, pattern, need)})
		return r, false
	}
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, who)), true
}

// userOf is who made the request: the authenticated user, else the ?user= the caller wrote
// (the original's behaviour, when authentication is off).
func userOf(r *http.Request) string {
	if p, ok := r.Context().Value(principalKey{}).(model.Principal); ok {
		return p.User
	}
	return r.URL.Query().Get("user")
}

// browserRefusal says why a request looks like a browser's from another site (which the
// API must not serve), "" when it does not: a body must be JSON (forms and text/plain can
// be sent cross-site without a preflight), an Origin must be this master's, and a master
// listening on loopback only answers loopback Host names (DNS rebinding).
func (s *server) browserRefusal(r *http.Request) (int, string, string) {
	if r.ContentLength != 0 && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) {
		if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(ct), "application/json") {
			return http.StatusUnsupportedMediaType, statusUnsupportedMedia, "a request body must be sent as Content-Type: application/json"
		}
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return http.StatusForbidden, statusForeignOrigin, fmt.Sprintf("requests from origin %q are not served (this master is %s)", o, r.Host)
		}
	}
	if s.cfg.LoopbackOnly && !loopbackHost(r.Host) {
		return http.StatusForbidden, statusUnexpectedHost, fmt.Sprintf("this master listens on loopback only and answers localhost, 127.0.0.1 and [::1], not %q", r.Host)
	}
	return 0, "", ""
}

func loopbackHost(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// jobToken is the job token a request gives: the Helios-Job-Token header, else ?token=.
func jobToken(r *http.Request) string {
	if t := r.Header.Get(model.HeaderJobToken); t != "" {
		return t
	}
	return r.URL.Query().Get("token")
}

// hidesTokens tells whether answers to r must not show job tokens: authentication is on and
// the caller is not an admin.
func (s *server) hidesTokens(r *http.Request) bool {
	if !s.authRequired() {
		return false
	}
	p, ok := r.Context().Value(principalKey{}).(model.Principal)
	return !ok || p.Role != model.RoleAdmin
}

// hideTokens replaces the value of every "token" key in a JSON document (jobs, their
// rolloutOptions, groups' options) with model.HiddenToken. The API has no other "token"
// field, so the walk needs no knowledge of each response's type.
func hideTokens(doc []byte) []byte {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return doc
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // the marker reads as written
	if err := enc.Encode(hideIn(v)); err != nil {
		return doc
	}
	return bytes.TrimSuffix(out.Bytes(), []byte{'\n'})
}

func hideIn(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); k == "token" && ok && s != "" {
				x[k] = model.HiddenToken
			} else {
				x[k] = hideIn(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = hideIn(e)
		}
	}
	return v
}
