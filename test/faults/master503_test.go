package faults

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
)

// refusedWithin bounds the 503 of a master whose etcd endpoints all refuse connections.
const refusedWithin = time.Second

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
