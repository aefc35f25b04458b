package cli_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/helios-go/helios/model"
)

// requestLog is a proxy in front of the master that records the requests the CLI makes.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.reqs
	l.reqs = nil
	return out
}

func proxied(t *testing.T, x *h) (*h, *requestLog) {
	t.Helper()
	target, err := url.Parse(x.m.URL)
	if err != nil {
		t.Fatal(err)
	}
	log := &requestLog{}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.mu.Lock()
		log.reqs = append(log.reqs, r.Method+" "+r.URL.Path)
		log.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	// The same master, seen through the proxy.
	m := *x.m
	m.URL = srv.URL
	return &h{t: t, m: &m, env: x.env}, log
}

// TestDeployFullIDExactHostSkipsLookups: `helios deploy <full id> <host>` sends the deploy
// alone, and prints what the lookup path prints; every other case still looks up first and
// keeps its output and errors.
func TestDeployFullIDExactHostSkipsLookups(t *testing.T) {
	x := newH(t)
	r := x.ok("create", "direct:1", "busybox")
	id := model.JobID(lastLine(r.out))
	x.ok("register", "host-a", "agent-a")
	x.ok("register", "host-b", "agent-b")
	x.ok("register", "host-c", "agent-c")
	p, log := proxied(t, x)
	log.take()

	// Full id, exact host: one request.
	r = p.ok("deploy", string(id), "host-a")
	wantText(t, r.out, "Deploying "+string(id)+"|START on [host-a]\nhost-a: done")
	if got := log.take(); len(got) != 1 || !strings.HasPrefix(got[0], "PUT /hosts/host-a/jobs/") {
		t.Errorf("requests = %q, want the deploy alone", got)
	}

	// The same through the lookups (name:version): the same output.
	r = p.ok("deploy", "direct:1", "host-b")
	wantText(t, r.out, "Deploying "+string(id)+"|START on [host-b]\nhost-b: done")
	if got := log.take(); len(got) < 3 {
		t.Errorf("requests = %q, want the lookups then the deploy", got)
	}

	// --json: the same document either way.
	r = p.ok("--json", "deploy", "--no-start", string(id), "host-c")
	var res []map[string]any
	decode(t, r.out, &res)
	if len(res) != 1 || res[0]["host"] != "host-c" || res[0]["status"] != model.StatusOK || res[0]["job"] != string(id) {
		t.Errorf("--json output %s", r.out)
	}
	log.take()

	// Already deployed: refused, then asked again on the lookup path, which prints the refusal.
	r = p.fail("deploy", string(id), "host-a")
	want := x.fail("deploy", "direct:1", "host-a")
	if r.out != want.out || r.err != want.err {
		t.Errorf("already deployed: got %q %q, want the lookup path's %q %q", r.out, r.err, want.out, want.err)
	}

	// A host prefix: the master does not know "host", so the lookups resolve it.
	x.ok("register", "other-d", "agent-d")
	r = p.ok("deploy", string(id), "other")
	wantText(t, r.out, "Deploying "+string(id)+"|START on [other-d]\nother-d: done")

	// An unknown full id: the lookup path's error.
	unknown := model.NewJobID("nope", "1", strings.Repeat("0", 40))
	r = p.fail("deploy", string(unknown), "host-a")
	if !strings.Contains(r.out+r.err, "Unknown job: "+string(unknown)) {
		t.Errorf("unknown job: stdout %q stderr %q", r.out, r.err)
	}
	if strings.Contains(r.out, "Deploying") {
		t.Errorf("unknown job printed %q", r.out)
	}
}

// TestDeployFullIDUnreachableMaster: with no master to reach, the direct deploy fails over
// to the lookup path, which reports its own error, as before, and warns once at most.
func TestDeployFullIDUnreachableMaster(t *testing.T) {
	x := &h{t: t, env: map[string]string{"TZ": "UTC", "USER": "tester", "HOME": t.TempDir()}}
	id := model.NewJobID("a", "1", strings.Repeat("0", 40))
	r := x.runRaw("-z", "http://127.0.0.1:1", "--retry-timeout", "1", "deploy", string(id), "h")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	all := r.out + r.err
	if !strings.Contains(all, "could not reach any master: Get ") || strings.Contains(all, "Put ") {
		t.Errorf("want the job lookup's error, got:\n%s", all)
	}
	if n := strings.Count(all, "still trying until --retry-timeout"); n > 1 {
		t.Errorf("warned %d times, want once at most:\n%s", n, all)
	}
}
