package faults

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
)

// refusedWithin bounds the 503 of a master whose etcd endpoints all refuse connections.
const refusedWithin = time.Second

// The CLI commands of these tests run with --retry-timeout 1: its first retry delay is
// 1 s, so a CLI that waited before moving to the other master would give up instead.

// TestFaultMasterWithoutEtcdAnswers503 puts a master's only etcd endpoint behind a proxy: it
// answers 503 within 1 s when every endpoint refuses connections, within --etcd-timeout
// when etcd hangs (the proxy stalls).
func TestFaultMasterWithoutEtcdAnswers503(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: starts two helios-master processes (run without -short)")
	}
	bins := harness.BuildBinaries(t)
	_, embed := storetest.NewEtcd(t)
	c := &cluster{t: t, bins: bins, etcdEP: embed.Endpoints()[0]}
	p := startProxy(t, c.etcdEP)
	cut := c.startMaster("fault-cut", p.URL())
	good := c.startMaster("fault-good", c.etcdEP)
	c.master = good
	c.helios("create", "web:1", "busybox:latest")
	if code, took := get(t, cut+"/jobs"); code != http.StatusOK {
		t.Fatalf("GET /jobs through the proxy: %d after %v, want 200", code, took)
	}

	// Every endpoint of the master refuses connections: once its etcd client has seen the
	// refusals, every request is answered 503 within 1 s (store/fastfail.go), not after
	// --etcd-timeout.
	p.Drop()
	harness.Eventually(t, 10*time.Second, func() error {
		if code, took := get(t, cut+"/jobs"); code != http.StatusServiceUnavailable || took > refusedWithin {
			return fmt.Errorf("GET /jobs with etcd refusing: %d after %v, want 503 within %v", code, took, refusedWithin)
		}
		return nil
	})
	for range 3 { // settled: every request, not just one, is answered in time
		code, took := get(t, cut+"/jobs")
		if code != http.StatusServiceUnavailable || took > refusedWithin {
			t.Fatalf("GET /jobs with etcd refusing: %d after %v, want 503 within %v", code, took, refusedWithin)
		}
		t.Logf("figure: refused: 503 after %v", took.Round(time.Millisecond))
	}

	// The CLI given both masters of the cluster in one -z moves on to the good one at once
	// (it starts at a random one: a few runs try both orders).
	for range 4 {
		start := time.Now()
		out, code := c.heliosCode("--retry-timeout", "1", "-z", cut+","+good, "jobs", "-q")
		if code != 0 || !strings.Contains(out, "web:1") {
			t.Fatalf("helios -z CUT,GOOD jobs with CUT answering 503: exit %d\n%s", code, out)
		}
		t.Logf("figure: helios -z CUT,GOOD jobs: %v", time.Since(start).Round(time.Millisecond))
	}

	p.Stall() // etcd accepts connections and never answers
	// The refusals are remembered a moment (store/fastfail.go): wait until the master
	// tries etcd again, i.e. waits on it.
	harness.Eventually(t, 10*time.Second, func() error {
		if code, took := get(t, cut+"/jobs"); code != http.StatusServiceUnavailable || took < etcdTimeout/2 {
			return fmt.Errorf("GET /jobs with etcd hanging: %d after %v, want a 503 after waiting on etcd", code, took)
		}
		return nil
	})
	for range 3 {
		code, took := get(t, cut+"/jobs")
		if code != http.StatusServiceUnavailable || took > etcdTimeout+time.Second {
			t.Fatalf("GET /jobs with etcd hanging: %d after %v, want 503 within --etcd-timeout %v", code, took, etcdTimeout)
		}
		t.Logf("figure: stalled: 503 after %v (--etcd-timeout %v)", took.Round(time.Millisecond), etcdTimeout)
	}

	// Not asserted yet: "the CLI with two -z masters moves to the other". Today a repeated
	// -z names separate clusters, each listed in its own section, so the cut one's 503 fails
	// the command (docs/reliability.md).
}

// get returns the status code of a GET and how long it took (0 when the master did not answer).
func get(t *testing.T, url string) (int, time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	start := time.Now()
	resp, err := client.Get(url)
	took := time.Since(start)
	if err != nil {
		t.Logf("GET %s: %v", url, err)
		return 0, took
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, took
}

// TestFaultCLIMovesToTheOtherMaster: two helios-master processes of one cluster, given in
// one -z; one is SIGKILLed (its port refuses connections): every command, reads and
// writes, goes through the other at once, whichever master the CLI starts with.
func TestFaultCLIMovesToTheOtherMaster(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: starts two helios-master processes (run without -short)")
	}
	bins := harness.BuildBinaries(t)
	_, embed := storetest.NewEtcd(t)
	c := &cluster{t: t, bins: bins, etcdEP: embed.Endpoints()[0]}
	a, aProc := c.startMasterProcess("fault-a", c.etcdEP)
	b := c.startMaster("fault-b", c.etcdEP)
	both := a + "," + b
	c.master = both
	c.helios("create", "before:1", "busybox:latest")
	aProc.Kill()
	for i := range 4 {
		start := time.Now()
		job := fmt.Sprintf("after:%d", i)
		if out, code := c.heliosCode("--retry-timeout", "1", "-z", both, "create", job, "busybox:latest"); code != 0 {
			t.Fatalf("helios -z A,B create with A killed: exit %d\n%s", code, out)
		}
		out, code := c.heliosCode("--retry-timeout", "1", "-z", both, "jobs", "-q")
		if code != 0 || !strings.Contains(out, "before:1") || !strings.Contains(out, job) {
			t.Fatalf("helios -z A,B jobs with A killed: exit %d\n%s", code, out)
		}
		t.Logf("figure: create and jobs with master A killed: %v", time.Since(start).Round(time.Millisecond))
	}
	// A repeated -z still names two clusters: the dead one fails the command (exit 1), and
	// the other is listed in its own section.
	out, code := c.heliosCode("--retry-timeout", "1", "-z", a, "-z", b, "jobs", "-q")
	if code != 1 || !strings.Contains(out, "before:1") {
		t.Fatalf("helios -z A -z B jobs with A killed: exit %d, want 1 with B's section\n%s", code, out)
	}
}
