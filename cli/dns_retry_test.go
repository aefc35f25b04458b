package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer is a tiny authoritative DNS server on a loopback UDP port: SRV and A records
// from fixed tables, NXDOMAIN for any other name, and an empty answer for other types.
type dnsServer struct {
	addr    string
	srv     map[string][]net.SRV // "_helios._http.example.test." -> targets
	a       map[string]net.IP    // "m1.example.test." -> address
	mu      sync.Mutex
	queries []string
}

func startDNS(t *testing.T, srv map[string][]net.SRV, a map[string]net.IP) *dnsServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	d := &dnsServer{addr: pc.LocalAddr().String(), srv: srv, a: a}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed at cleanup
			}
			if resp := d.answer(buf[:n]); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return d
}

func (d *dnsServer) answer(req []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	name := strings.ToLower(q.Name.String())
	d.mu.Lock()
	d.queries = append(d.queries, q.Type.String()+" "+name)
	d.mu.Unlock()
	srvs, isSRV := d.srv[name]
	ip, isA := d.a[name]
	rcode := dnsmessage.RCodeSuccess
	if !isSRV && !isA {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RCode: rcode})
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	switch {
	case q.Type == dnsmessage.TypeSRV && isSRV:
		for _, s := range srvs {
			_ = b.SRVResource(rh, dnsmessage.SRVResource{Priority: s.Priority, Weight: s.Weight, Port: s.Port, Target: dnsmessage.MustNewName(s.Target)})
		}
	case q.Type == dnsmessage.TypeA && isA:
		var a [4]byte
		copy(a[:], ip.To4())
		_ = b.AResource(rh, dnsmessage.AResource{A: a})
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}

func (d *dnsServer) asked(q string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, x := range d.queries {
		if x == q {
			return true
		}
	}
	return false
}

// fakeAPI answers /masters and /version like a master named name.
func fakeAPI(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/masters":
			_ = json.NewEncoder(w).Encode([]string{name})
		case "/version":
			_ = json.NewEncoder(w).Encode(model.VersionResponse{Version: "v-" + name})
		case "/jobs":
			_ = json.NewEncoder(w).Encode(map[string]model.Job{})
		default:
			http.NotFound(w, r)
		}
	})
}

func port(t *testing.T, rawURL string) uint16 {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return uint16(p)
}

type runResult struct {
	code     int
	out, err string
}

// runCLI runs a command line with retries every 20 ms instead of seconds.
func runCLI(t *testing.T, env map[string]string, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	r := newRunner(strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	r.retryDelay = func(int) time.Duration { return 20 * time.Millisecond }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := r.run(ctx, args)
	return runResult{code, out.String(), errb.String()}
}

func TestDomainFindsMastersThroughSRV(t *testing.T) {
	plain := httptest.NewServer(fakeAPI("plain"))
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(fakeAPI("secure"))
	t.Cleanup(secure.Close)
	dns := startDNS(t, map[string][]net.SRV{
		"_helios._http.example.test.":  {{Target: "m1.example.test.", Port: port(t, plain.URL), Priority: 10, Weight: 10}},
		"_helios._https.tls.test.":     {{Target: "m2.tls.test.", Port: port(t, secure.URL), Priority: 10, Weight: 10}},
		"_custom._http.example.test.":  {{Target: "m1.example.test.", Port: port(t, plain.URL), Priority: 10, Weight: 10}},
		"_helios._http.other.test.":    {{Target: "m1.example.test.", Port: port(t, plain.URL), Priority: 10, Weight: 10}},
		"_helios._https.example.test.": nil,
	}, map[string]net.IP{
		"m1.example.test.": net.ParseIP("127.0.0.1"),
		"m2.tls.test.":     net.ParseIP("127.0.0.1"),
	})
	env := map[string]string{"HOME": t.TempDir(), "USER": "tester"}

	r := runCLI(t, env, "-d", "example.test", "--resolver", dns.addr, "masters")
	if r.code != 0 || strings.TrimSpace(r.out) != "plain" {
		t.Fatalf("-d over http: %d %q %q", r.code, r.out, r.err)
	}
	if !dns.asked("TypeSRV _helios._http.example.test.") || !dns.asked("TypeA m1.example.test.") {
		t.Fatalf("queries %v", dns.queries)
	}
	// _https records give https URLs; -k accepts the test server's certificate.
	r = runCLI(t, env, "-d", "tls.test", "--resolver", dns.addr, "-k", "version")
	if r.code != 0 || !strings.Contains(r.out, "Master Version: v-secure") {
		t.Fatalf("-d over https: %d %q %q", r.code, r.out, r.err)
	}
	// --srv-name, and the resolver from the environment.
	env["HELIOS_RESOLVER"] = dns.addr
	r = runCLI(t, env, "--srv-name", "custom", "-d", "example.test", "masters")
	if r.code != 0 || strings.TrimSpace(r.out) != "plain" {
		t.Fatalf("--srv-name: %d %q %q", r.code, r.out, r.err)
	}
	// HELIOS_MASTER=domain://
	env["HELIOS_MASTER"] = "domain://example.test"
	r = runCLI(t, env, "masters")
	if r.code != 0 || strings.TrimSpace(r.out) != "plain" {
		t.Fatalf("HELIOS_MASTER domain: %d %q %q", r.code, r.out, r.err)
	}
	delete(env, "HELIOS_MASTER")

	// A domain without records: the original's words, in text and JSON.
	r = runCLI(t, env, "-d", "nowhere.test", "masters")
	if r.code != 1 || strings.TrimSpace(r.err) != "Failed to resolve helios master in nowhere.test (srv: helios)" {
		t.Fatalf("unresolvable: %d %q %q", r.code, r.out, r.err)
	}
	r = runCLI(t, env, "--json", "-d", "nowhere.test", "--srv-name", "x", "masters")
	var e map[string]string
	if err := json.Unmarshal([]byte(r.out), &e); err != nil || r.code != 1 || e["status"] != statusUnavailable ||
		e["message"] != "Failed to resolve helios master in nowhere.test (srv: x)" {
		t.Fatalf("unresolvable json: %d %q %v", r.code, r.out, err)
	}

	// Two domains are two clusters: each is run, headed by its name and endpoints.
	r = runCLI(t, env, "-d", "example.test,other.test", "masters")
	want := "example.test ([http://127.0.0.1:" + strconv.Itoa(int(port(t, plain.URL))) + "])"
	if r.code != 0 || !strings.Contains(r.out, want+"\n"+strings.Repeat("-", len(want))+"\nplain\n") ||
		strings.Count(r.out, "\nplain\n") != 2 || !strings.Contains(r.out, "other.test ([http://127.0.0.1:") {
		t.Fatalf("two domains: %d\n%s\n%s", r.code, r.out, r.err)
	}
	// One failing cluster fails the run, the other still answers.
	r = runCLI(t, env, "-d", "nowhere.test,example.test", "masters")
	if r.code != 1 || !strings.Contains(r.out, "\nplain\n") || !strings.Contains(r.err, "Failed to resolve helios master in nowhere.test (srv: helios)") {
		t.Fatalf("one of two domains fails: %d\n%s\n%s", r.code, r.out, r.err)
	}
}

// flaky answers 503 (or drops the connection) for the first n requests, then as api.
func flaky(n int32, hijack bool, api http.Handler) (http.Handler, *atomic.Int32) {
	var calls atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			if hijack {
				if hj, ok := w.(http.Hijacker); ok {
					if c, _, err := hj.Hijack(); err == nil {
						c.Close()
						return
					}
				}
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not the leader yet"))
			return
		}
		api.ServeHTTP(w, r)
	}), &calls
}

func TestRetriesUntilTheMasterAnswers(t *testing.T) {
	env := map[string]string{"HOME": t.TempDir(), "USER": "tester"}
	for _, tc := range []struct {
		name   string
		hijack bool
	}{{"503", false}, {"dropped connections", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h, calls := flaky(3, tc.hijack, fakeAPI("m"))
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			r := runCLI(t, env, "-z", srv.URL, "--retry-timeout", "5", "-v", "masters")
			if r.code != 0 || strings.TrimSpace(r.out) != "m" || calls.Load() != 4 {
				t.Fatalf("exit %d after %d calls\nstdout %q\nstderr %q", r.code, calls.Load(), r.out, r.err)
			}
			if strings.Count(r.err, "retrying in") != 3 {
				t.Fatalf("-v should log each retry:\n%s", r.err)
			}
		})
	}
	t.Run("refused then listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // refused until the server below starts
		srv := &http.Server{Handler: fakeAPI("late"), ReadHeaderTimeout: time.Second}
		started := make(chan struct{})
		go func() {
			time.Sleep(200 * time.Millisecond)
			l, err := net.Listen("tcp", addr)
			close(started)
			if err != nil {
				return
			}
			_ = srv.Serve(l)
		}()
		t.Cleanup(func() { <-started; srv.Close() })
		r := runCLI(t, env, "-z", "http://"+addr, "--retry-timeout", "5", "masters")
		if r.code != 0 || strings.TrimSpace(r.out) != "late" {
			t.Fatalf("exit %d\nstdout %q\nstderr %q", r.code, r.out, r.err)
		}
	})
}

func TestGivesUpAfterRetryTimeout(t *testing.T) {
	env := map[string]string{"HOME": t.TempDir(), "USER": "tester"}
	h, calls := flaky(1<<30, false, fakeAPI("m"))
	busy := httptest.NewServer(h)
	t.Cleanup(busy.Close)
	start := time.Now()
	r := runCLI(t, env, "-z", busy.URL, "--retry-timeout", "1", "masters")
	took := time.Since(start)
	if r.code != 1 || !strings.Contains(r.err, "503") || !strings.Contains(r.err, "not the leader yet") || calls.Load() < 2 {
		t.Fatalf("always 503: exit %d after %d calls\nstdout %q\nstderr %q", r.code, calls.Load(), r.out, r.err)
	}
	if took < 900*time.Millisecond || took > 5*time.Second {
		t.Fatalf("gave up after %s, want about the 1 s retry timeout", took)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	env["HELIOS_CLI_TOTAL_TIMEOUT"] = "1" // the original's variable, used when the flag is absent
	start = time.Now()
	r = runCLI(t, env, "--json", "-z", "http://"+addr, "masters")
	took = time.Since(start)
	var e map[string]string
	if err := json.Unmarshal([]byte(r.out), &e); err != nil || r.code != 1 || e["status"] != statusUnavailable ||
		!strings.Contains(e["message"], "could not reach any master") || !strings.Contains(e["message"], "connection refused") {
		t.Fatalf("refused: exit %d\nstdout %q\nstderr %q", r.code, r.out, r.err)
	}
	if took < 900*time.Millisecond || took > 5*time.Second {
		t.Fatalf("gave up after %s, want about the 1 s of HELIOS_CLI_TOTAL_TIMEOUT", took)
	}
}

// closedAddr is a loopback address nothing listens on: connections to it are refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestSaysOnceThatTheMasterIsUnreachable(t *testing.T) {
	env := map[string]string{"HOME": t.TempDir(), "USER": "tester"}
	a := closedAddr(t)
	// Retries every 20 ms for 1 s: dozens of rounds, one notice.
	r := runCLI(t, env, "-z", "http://"+a, "--retry-timeout", "1", "masters")
	if r.code != 1 {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", r.code, r.out, r.err)
	}
	for _, want := range []string{
		"master http://" + a + " is unreachable: dial tcp " + a + ": connect: connection refused\n",
		"still trying until --retry-timeout (1s)",
	} {
		if strings.Count(r.err, want) != 1 {
			t.Fatalf("stderr should say once %q:\n%s", want, r.err)
		}
	}
	// The notice comes before the final error, which still says what failed.
	if !strings.HasSuffix(strings.TrimSpace(r.err), "connection refused") ||
		strings.Index(r.err, "still trying") > strings.Index(r.err, "could not reach any master") {
		t.Fatalf("notice then final error expected:\n%s", r.err)
	}

	// A master that answers, even 503, is reachable: no notice.
	h, _ := flaky(2, false, fakeAPI("m"))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	r = runCLI(t, env, "-z", srv.URL, "--retry-timeout", "5", "masters")
	if r.code != 0 || strings.Contains(r.err, "unreachable") {
		t.Fatalf("503 then answer: exit %d\nstderr %q", r.code, r.err)
	}
}

// A 504 (the master's deadline passed while etcd answered) is retried for reads, which are
// harmless to repeat, and not for writes, which may have taken effect.
func TestGatewayTimeoutRetriedForReadsOnly(t *testing.T) {
	env := map[string]string{"HOME": t.TempDir(), "USER": "tester"}
	var calls, posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		if calls.Add(1) <= 2 || r.Method == http.MethodPost {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusGatewayTimeout)
			_, _ = w.Write([]byte(`{"status":"GATEWAY_TIMEOUT","message":"deadline passed"}`))
			return
		}
		fakeAPI("m").ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	if r := runCLI(t, env, "-z", srv.URL, "--retry-timeout", "5", "masters"); r.code != 0 || strings.TrimSpace(r.out) != "m" || calls.Load() != 3 {
		t.Fatalf("GET after two 504s: exit %d after %d calls\nstdout %q\nstderr %q", r.code, calls.Load(), r.out, r.err)
	}
	r := runCLI(t, env, "-z", srv.URL, "--retry-timeout", "5", "create", "x:1", "busybox")
	if r.code != 1 || posts.Load() != 1 {
		t.Fatalf("POST answered 504: exit %d after %d POSTs, want exit 1 after exactly one\nstdout %q\nstderr %q", r.code, posts.Load(), r.out, r.err)
	}
}
