package model

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"fmt"
	"strings"
)

// Role is what an authenticated user may do.
type Role string

// Roles, each allowing what the one before allows and more.
const (
	// RoleReader may read everything (every GET).
	RoleReader Role = "reader"
	// RoleDeployer may also create jobs, deploy, undeploy, start, stop, run and stop rolling
	// updates: the manual's create → deploy flow needs one role.
	RoleDeployer Role = "deployer"
	// RoleAdmin may do everything, including removing jobs, hosts and deployment groups.
	RoleAdmin Role = "admin"
)

// ParseRole reads a role word.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleReader, RoleDeployer, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q: want reader, deployer or admin", s)
}

func (r Role) rank() int {
	switch r {
	case RoleReader:
		return 1
	case RoleDeployer:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Allows tells whether the role includes need.
func (r Role) Allows(need Role) bool { return r.rank() >= need.rank() && r.rank() > 0 }

// deployerRoutes are the writes a deployer may make, by route pattern (method and path as
// the master registers them).
var deployerRoutes = map[string]bool{
	"POST /jobs":                                   true,
	"PUT /hosts/{host}/jobs/{id}":                  true,
	"DELETE /hosts/{host}/jobs/{id}":               true,
	"PATCH /hosts/{host}/jobs/{id}":                true,
	"POST /deployment-group":                       true,
	"POST /deployment-group/{$}":                   true,
	"POST /deployment-group/{name}/rolling-update": true,
	"POST /deployment-group/{name}/stop":           true,
	"POST /deployment-group/{name}/promote":        true,
}

// readRoutes are reads sent as POST because they carry a list of ids.
var readRoutes = map[string]bool{
	"POST /jobs/statuses":  true,
	"POST /hosts/statuses": true,
}

// RouteRole is the role a request to route pattern needs: reader for reads, deployer for
// the deployment flow, admin for everything else (removing jobs, hosts and groups,
// registering hosts).
func RouteRole(pattern string) Role {
	method, _, _ := strings.Cut(pattern, " ")
	switch {
	case method == "GET" || method == "HEAD" || readRoutes[pattern]:
		return RoleReader
	case deployerRoutes[pattern]:
		return RoleDeployer
	}
	return RoleAdmin
}

// Principal is an authenticated caller.
type Principal struct {
	User string
	Role Role
}

// ParseTokenFile reads a bearer token file: one "token,user,role" per line; blank lines and
// lines starting with # are skipped. Tokens must be unique and at least 16 characters.
func ParseTokenFile(data []byte) (map[string]Principal, error) {
	out := map[string]Principal{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ",")
		if len(parts) != 3 {
			return nil, fmt.Errorf("line %d: want token,user,role", n)
		}
		token, user := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		role, err := ParseRole(parts[2])
		switch {
		case err != nil:
			return nil, fmt.Errorf("line %d: %w", n, err)
		case len(token) < 16:
			return nil, fmt.Errorf("line %d: the token has %d characters, at least 16 are needed", n, len(token))
		case user == "":
			return nil, fmt.Errorf("line %d: empty user", n)
		}
		if _, dup := out[token]; dup {
			return nil, fmt.Errorf("line %d: the token is already given to %s", n, out[token].User)
		}
		out[token] = Principal{User: user, Role: role}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no tokens in the file")
	}
	return out, nil
}

// TokenMatches compares a job's token with the one a caller gave, in constant time, so the
// time an answer takes tells nothing about the token.
func TokenMatches(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// HiddenToken replaces a job's token in what the masters show callers other than admins
// when authentication is on. It cannot be a job's token: create refuses it.
const HiddenToken = "<hidden: ask an admin>"

// HeaderJobToken carries a job's token (the original's ?token= is still read).
const HeaderJobToken = "Helios-Job-Token"

// WhoAmI answers GET /auth/whoami: who the master takes the caller for. Without
// authentication configured every caller may do everything: Authenticated is false and
// Role is admin.
type WhoAmI struct {
	User          string `json:"user"`
	Role          Role   `json:"role"`
	Authenticated bool   `json:"authenticated"`
}
