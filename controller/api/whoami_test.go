package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/helios-go/helios/model"
)

// GET /auth/whoami names the token's user and role; without a token it is refused like
// any call; without authentication configured everyone is an unauthenticated admin.
func TestWhoAmI(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Tokens = testTokens })
	for token, want := range testTokens {
		r := e.doAs(token, "GET", "/auth/whoami", nil)
		var got model.WhoAmI
		if r.code != http.StatusOK || json.Unmarshal(r.body, &got) != nil {
			t.Fatalf("whoami as %s: %d %s", want.User, r.code, r.body)
		}
		if got != (model.WhoAmI{User: want.User, Role: want.Role, Authenticated: true}) {
			t.Errorf("whoami as %s: %+v", want.User, got)
		}
	}
	if r := e.doAs("", "GET", "/auth/whoami", nil); r.code != http.StatusUnauthorized {
		t.Errorf("whoami without a token: %d %s, want 401", r.code, r.body)
	}

	open := newEnv(t)
	r := open.do("GET", "/auth/whoami?user=bob", nil)
	var got model.WhoAmI
	if r.code != http.StatusOK || json.Unmarshal(r.body, &got) != nil {
		t.Fatalf("whoami without authentication: %d %s", r.code, r.body)
	}
	if got != (model.WhoAmI{User: "bob", Role: model.RoleAdmin}) {
		t.Errorf("whoami without authentication: %+v, want bob, admin, not authenticated", got)
	}
}
