package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
)

// With authentication on, job tokens appear in no answer to a reader or a deployer; an
// admin sees them. The job token is accepted in the Helios-Job-Token header.
func TestJobTokensAreHiddenFromNonAdmins(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Tokens = testTokens })
	const secret = "s3cret-job-token"
	var cr model.CreateJobResponse
	e.expect(e.doAs("deployer-token-0123456789", "POST", "/jobs",
		`{"id":"tok:1","image":"busybox","token":"`+secret+`","rolloutOptions":{"token":"`+secret+`"}}`), http.StatusOK, model.StatusOK, &cr)
	id := string(cr.ID)
	e.doAs("admin-token-0123456789", "PUT", "/hosts/h1?id=x", nil)
	r, err := e.sendWith("PUT", "/hosts/h1/jobs/"+id, `{}`, func(req *http.Request) {
		req.Header.Set("Authorization", "Bearer deployer-token-0123456789")
		req.Header.Set(model.HeaderJobToken, secret)
	})
	if err != nil || r.code != http.StatusOK {
		t.Fatalf("deploy with the token in the header: %d %s %v", r.code, r.body, err)
	}
	e.doAs("admin-token-0123456789", "POST", "/deployment-group", `{"name":"g","hostSelectors":[{"label":"a","operator":"EQUALS","operand":["b"]}]}`)
	paths := []string{"/jobs", "/jobs/" + id, "/jobs/" + id + "/status", "/hosts/h1/status", "/history/jobs/" + id}
	for _, token := range []string{"reader-token-0123456789", "deployer-token-0123456789"} {
		for _, p := range paths {
			if r := e.doAs(token, "GET", p, nil); r.code != http.StatusOK || strings.Contains(string(r.body), secret) {
				t.Errorf("GET %s as %s: %d, shows the token: %v", p, testTokens[token].User, r.code, strings.Contains(string(r.body), secret))
			}
		}
		if r := e.doAs(token, "POST", "/jobs/statuses", `["`+id+`"]`); strings.Contains(string(r.body), secret) {
			t.Errorf("POST /jobs/statuses as %s shows the token", testTokens[token].User)
		}
	}
	if r := e.doAs("reader-token-0123456789", "GET", "/jobs/"+id, nil); !strings.Contains(string(r.body), model.HiddenToken) {
		t.Errorf("a reader's view of the job lacks the marker: %s", r.body)
	}
	if r := e.doAs("admin-token-0123456789", "GET", "/jobs/"+id, nil); !strings.Contains(string(r.body), secret) {
		t.Errorf("an admin does not see the token: %s", r.body)
	}
	// A job copied from a reader's view, marker and all, is refused with a way out.
	var bad model.CreateJobResponse
	e.expect(e.doAs("deployer-token-0123456789", "POST", "/jobs", `{"id":"tok:2","image":"busybox","token":"`+model.HiddenToken+`"}`),
		http.StatusBadRequest, model.StatusInvalidJobDefinition, &bad)
	if !strings.Contains(strings.Join(bad.Errors, " "), "--token") {
		t.Fatalf("marker as a token: %v, want a message asking for --token", bad.Errors)
	}
}
