package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
)

// masterPorts are the loopback ports one helios-master with an embedded etcd listens on.
type masterPorts struct{ api, client, peer int }

func freeMasterPorts(t *testing.T) masterPorts {
	return masterPorts{harness.FreePort(t), harness.FreePort(t), harness.FreePort(t)}
}

// startMaster starts helios-master with an embedded etcd in dataDir.
func startMaster(t *testing.T, bins harness.Binaries, dataDir string, ports masterPorts) (*harness.Process, string) {
	t.Helper()
	api := fmt.Sprintf("127.0.0.1:%d", ports.api)
	p := harness.Start(t, bins.Path("helios-master"),
		"--http", api,
		"--name", "e2e-master",
		"--data-dir", dataDir,
		"--etcd-client-url", fmt.Sprintf("http://127.0.0.1:%d", ports.client),
		"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", ports.peer),
		"--master-lease-ttl", "2s",
	)
	url := "http://" + api
	harness.WaitHTTP(t, url+"/version", 60*time.Second)
	return p, url
}

func call(t *testing.T, method, url string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func status(t *testing.T, body []byte) string {
	t.Helper()
	var s struct{ Status string }
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("response %q is not JSON with a status: %v", body, err)
	}
	return s.Status
}

// TestMasterProcessServesJobsAndKeepsThemAcrossRestart drives the master binary with plain
// HTTP as the README's curl examples do, then restarts it on the same data dir.
func TestMasterProcessServesJobsAndKeepsThemAcrossRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: needs the built binaries (run without -short)")
	}
	bins := harness.BuildBinaries(t)
	dataDir := filepath.Join(t.TempDir(), "etcd")
	ports := freeMasterPorts(t)
	p, url := startMaster(t, bins, dataDir, ports)

	code, body := call(t, http.MethodPost, url+"/jobs", map[string]any{
		"id": "e2e:1", "image": "busybox:latest", "command": []string{"sleep", "1000"},
	})
	if code != http.StatusOK || status(t, body) != model.StatusOK {
		t.Fatalf("create job: %d %s", code, body)
	}
	var created model.CreateJobResponse
	if err := json.Unmarshal(body, &created); err != nil || !created.ID.IsFull() {
		t.Fatalf("create job answered %s, want a full id", body)
	}
	if code, body := call(t, http.MethodPost, url+"/jobs", map[string]any{"id": "e2e:1", "image": "busybox:latest", "command": []string{"sleep", "1000"}}); code != http.StatusBadRequest || status(t, body) != model.StatusJobAlreadyExists {
		t.Fatalf("second create: %d %s, want 400 JOB_ALREADY_EXISTS", code, body)
	}
	if code, body := call(t, http.MethodPut, url+"/hosts/host1?id=abc", nil); code != http.StatusOK {
		t.Fatalf("register host: %d %s", code, body)
	}
	if code, body := call(t, http.MethodPut, url+"/hosts/host1/jobs/"+string(created.ID), model.Deployment{Goal: model.GoalStart}); code != http.StatusOK || status(t, body) != model.StatusOK {
		t.Fatalf("deploy: %d %s", code, body)
	}
	if code, body := call(t, http.MethodGet, url+"/masters", nil); code != http.StatusOK || !strings.Contains(string(body), "e2e-master") {
		t.Fatalf("masters: %d %s, want e2e-master listed", code, body)
	}
	if code, body := call(t, http.MethodGet, url+"/metrics", nil); code != http.StatusOK || !strings.Contains(string(body), "helios_master_http_requests_total") {
		t.Fatalf("metrics: %d, want helios_master_http_requests_total in\n%.500s", code, body)
	}

	// A clean stop, then a restart on the same data dir: the job and deployment are still there.
	p.Signal(syscall.SIGTERM)
	if err := p.Wait(20 * time.Second); err != nil {
		t.Fatalf("master did not exit cleanly on SIGTERM: %v\n%s", err, p.Output())
	}
	_, url = startMaster(t, bins, dataDir, ports)
	code, body = call(t, http.MethodGet, url+"/jobs/"+string(created.ID)+"/status", nil)
	if code != http.StatusOK {
		t.Fatalf("job status after restart: %d %s", code, body)
	}
	var js model.JobStatus
	if err := json.Unmarshal(body, &js); err != nil {
		t.Fatal(err)
	}
	if js.Job == nil || js.Job.ID != created.ID || js.Deployments["host1"].Goal != model.GoalStart {
		t.Fatalf("after restart the job status is %s, want the job deployed on host1 with goal START", body)
	}
}

// TestClusterIDMismatchRefused: a master claims its etcd for cluster "prod"; an agent
// configured for "staging" pointed at the same etcd refuses to start, naming both.
func TestClusterIDMismatchRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: needs the built binaries (run without -short)")
	}
	bins := harness.BuildBinaries(t)
	ports := freeMasterPorts(t)
	dataDir := filepath.Join(t.TempDir(), "etcd")
	api := fmt.Sprintf("127.0.0.1:%d", ports.api)
	harness.Start(t, bins.Path("helios-master"), "--cluster-id", "prod", "--http", api, "--data-dir", dataDir,
		"--etcd-client-url", fmt.Sprintf("http://127.0.0.1:%d", ports.client),
		"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", ports.peer))
	harness.WaitHTTP(t, "http://"+api+"/version", 60*time.Second)

	agent := harness.Start(t, bins.Path("helios-agent"), "--cluster-id", "staging", "--name", "wrong-cluster",
		"--etcd", fmt.Sprintf("http://127.0.0.1:%d", ports.client), "--state-dir", t.TempDir(), "--metrics", "")
	err := agent.Wait(30 * time.Second)
	if err == nil || !strings.Contains(agent.Output(), `belongs to Helios cluster "prod", not "staging"`) {
		t.Fatalf("agent of another cluster: exit %v, output:\n%s", err, agent.Output())
	}
	if code, body := call(t, http.MethodGet, "http://"+api+"/hosts", nil); code != http.StatusOK || strings.Contains(string(body), "wrong-cluster") {
		t.Fatalf("hosts: %d %s; the refused agent must not have registered", code, body)
	}
}

// TestStoppedMasterUnlistedAtOnce: a second helios-master on the first one's etcd, stopped
// with SIGTERM, is gone from GET /masters and from the controller election within seconds,
// though its lease TTL is 30 s: it revokes its lease and resigns before closing its client.
func TestStoppedMasterUnlistedAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: needs the built binaries (run without -short)")
	}
	bins := harness.BuildBinaries(t)
	ports := freeMasterPorts(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports.client)
	_, url := startMaster(t, bins, filepath.Join(t.TempDir(), "etcd"), ports)
	second := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	p := harness.Start(t, bins.Path("helios-master"), "--name", "e2e-second", "--http", second,
		"--etcd", etcdURL, "--master-lease-ttl", "30s", "--leader-lease-ttl", "30s")
	harness.WaitHTTP(t, "http://"+second+"/version", 60*time.Second)

	st := storetest.OpenEndpoints(t, []string{etcdURL}, store.Config{})
	// listed reports whether e2e-second is in GET /masters and among the candidates.
	listed := func() (master, candidate bool) {
		code, body := call(t, http.MethodGet, url+"/masters", nil)
		if code != http.StatusOK {
			t.Fatalf("GET /masters: %d %s", code, body)
		}
		cs, err := st.Candidates(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(string(body), `"e2e-second"`), slices.Contains(cs, "e2e-second")
	}
	harness.Eventually(t, 20*time.Second, func() error {
		if m, c := listed(); !m || !c {
			return errorf("e2e-second listed as master %v, candidate %v; want both before the stop", m, c)
		}
		return nil
	})

	p.Signal(syscall.SIGTERM)
	if err := p.Wait(20 * time.Second); err != nil {
		t.Fatalf("second master did not exit cleanly on SIGTERM: %v\n%s", err, p.Output())
	}
	harness.Eventually(t, 3*time.Second, func() error {
		if m, c := listed(); m || c {
			return errorf("3 s after a clean stop e2e-second is listed as master %v, candidate %v (lease TTL 30 s)", m, c)
		}
		return nil
	})
	for _, line := range strings.Split(p.Output(), "\n") {
		if strings.Contains(line, "LeaseRevoke") {
			t.Errorf("the lease's revocation failed: %s", line)
		}
	}
}
