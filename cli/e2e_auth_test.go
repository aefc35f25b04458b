package cli_test

import (
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/test/harness"
)

// Against a master with authentication on, the CLI presents its bearer token from
// --auth-token, HELIOS_AUTH_TOKEN or ~/.helios/config; without one it is told why.
func TestCLIPresentsItsBearerToken(t *testing.T) {
	m := harness.StartMaster(t, harness.WithTokens(map[string]model.Principal{
		"deployer-token-0123456789": {User: "dave", Role: model.RoleDeployer},
		"reader-token-01234567890":  {User: "rita", Role: model.RoleReader},
	}))
	x := &h{t: t, m: m, env: map[string]string{"TZ": "UTC", "USER": "tester", "HOME": t.TempDir()}}
	r := x.fail("jobs")
	if !strings.Contains(r.err, "UNAUTHENTICATED") {
		t.Fatalf("without a token: stderr %q, want UNAUTHENTICATED", r.err)
	}
	if r := x.fail("whoami"); !strings.Contains(r.err, "UNAUTHENTICATED") {
		t.Fatalf("whoami without a token: stderr %q, want UNAUTHENTICATED", r.err)
	}
	if out := strings.TrimSpace(x.ok("whoami", "--auth-token", "deployer-token-0123456789").out); out != "dave (deployer)" {
		t.Fatalf("whoami as dave: %q, want \"dave (deployer)\"", out)
	}
	var me model.WhoAmI
	decode(t, x.ok("whoami", "--json", "--auth-token", "reader-token-01234567890").out, &me)
	if me != (model.WhoAmI{User: "rita", Role: model.RoleReader, Authenticated: true}) {
		t.Fatalf("whoami --json as rita: %+v", me)
	}
	id := strings.TrimSpace(x.ok("create", "-q", "auth:1", "busybox", "--auth-token", "deployer-token-0123456789").out)
	x.env["HELIOS_AUTH_TOKEN"] = "reader-token-01234567890"
	if out := x.ok("jobs").out; !strings.Contains(out, "auth:1:") {
		t.Fatalf("jobs as a reader:\n%s", out)
	}
	r = x.fail("remove", id, "--yes")
	if got := r.out + r.err; !strings.Contains(got, "PERMISSION_DENIED") || !strings.Contains(got, "rita") {
		t.Fatalf("remove as a reader: output %q, want PERMISSION_DENIED naming rita", got)
	}
	var job model.Job
	decode(t, x.ok("inspect", "--json", id).out, &job)
	if job.CreatingUser != "dave" {
		t.Fatalf("creatingUser %q, want the token's user dave", job.CreatingUser)
	}
}
