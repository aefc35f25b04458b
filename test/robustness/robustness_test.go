package robustness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/test/harness"
)

// profile sizes one run: clients, pools of job names and hosts (small, so operations
// collide), and how many faults the injector may cause.
type profile struct {
	clients, jobs, hosts, faults int
	converge                     time.Duration // bound on convergence once the faults stop
}

// TestRobustness is the short run of make test: a few clients, a few faults, bounded by
// HELIOS_ROBUSTNESS_OPS / HELIOS_ROBUSTNESS_DURATION; HELIOS_ROBUSTNESS_SEED replays.
func TestRobustness(t *testing.T) {
	if testing.Short() {
		t.Skip("robustness run: starts three etcd members, two masters and hollow agents (run without -short)")
	}
	set := settings(t, Settings{Ops: 1500, Duration: 20 * time.Second})
	run(t, set, profile{clients: 4, jobs: 4, hosts: 3, faults: 6, converge: 30 * time.Second})
}

// TestRobustnessLong is make test-robustness: more clients, hosts and faults for minutes.
func TestRobustnessLong(t *testing.T) {
	if os.Getenv("HELIOS_ROBUSTNESS_LONG") != "1" {
		t.Skip("long robustness run: set HELIOS_ROBUSTNESS_LONG=1 (make test-robustness)")
	}
	set := settings(t, Settings{Ops: 100000, Duration: 5 * time.Minute})
	run(t, set, profile{clients: 8, jobs: 8, hosts: 6, faults: 60, converge: 30 * time.Second})
}

func settings(t *testing.T, def Settings) Settings {
	t.Helper()
	def.Seed = time.Now().UnixNano()
	set, err := ParseSettings(os.Getenv, def)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d (replay with %s=%d), at most %d operations or %v", set.Seed, EnvSeed, set.Seed, set.Ops, set.Duration)
	return set
}

// recorder collects the history; each client's ops are sequential under its ClientId, and
// a client whose call had an unknown outcome goes on under a new id, since that call stays
// open forever.
type recorder struct {
	base    time.Time
	mu      sync.Mutex
	ops     []porcupine.Operation
	nextID  atomic.Int64
	count   atomic.Int64
	unknown atomic.Int64
	refused atomic.Int64 // calls to a stopped master: not sent, not in the history
}

// notSent marks a call whose connection was refused: nothing reached a master, so the
// call is left out of the history (it is not an operation).
const notSent = "not sent"

func (r *recorder) now() int64 { return time.Since(r.base).Nanoseconds() }

func (r *recorder) add(op porcupine.Operation) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

func run(t *testing.T, set Settings, p profile) {
	c := startCluster(t, p.hosts)
	jobIDs := make([]model.JobID, p.jobs)
	jobBodies := make([][]byte, p.jobs)
	for i := range jobIDs {
		j, err := model.WithComputedID(fmt.Sprintf("rj%d", i), "1", model.Job{Image: "busybox:latest", Command: []string{"sleep", "1d"}})
		if err != nil {
			t.Fatal(err)
		}
		jobIDs[i] = j.ID
		if jobBodies[i], err = json.Marshal(j); err != nil {
			t.Fatal(err)
		}
	}
	waitHostsUp(t, c)

	liar := lyingProxy(t, c)
	rec := &recorder{base: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), set.Duration)
	defer cancel()
	httpc := &http.Client{Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	for ci := range p.clients {
		rng := rand.New(rand.NewSource(set.Seed + int64(ci) + 1))
		wg.Go(func() {
			id := int(rec.nextID.Add(1) - 1)
			for ctx.Err() == nil && rec.count.Add(1) <= int64(set.Ops) {
				ji := rng.Intn(p.jobs)
				in := Input{Job: jobIDs[ji], Host: c.hosts[rng.Intn(p.hosts)]}
				switch k := rng.Intn(100); {
				case k < 15:
					in.Kind, in.Host = OpCreate, ""
				case k < 40:
					in.Kind = OpDeploy
				case k < 60:
					in.Kind = OpUndeploy
				case k < 72:
					in.Kind = OpStart
				case k < 84:
					in.Kind = OpStop
				case k < 88:
					in.Kind, in.Host = OpGetJob, ""
				case k < 94:
					in.Kind = OpGet
				default:
					in.Kind, in.Host = OpRemove, ""
				}
				base := c.url(rng.Intn(len(c.masters)))
				if liar != nil && rng.Intn(2) == 0 {
					base = liar.URL
				}
				call := rec.now()
				out := do(httpc, base, in, jobBodies[ji])
				ret := rec.now()
				if out.Status == notSent {
					rec.refused.Add(1)
					continue
				}
				if out.Unknown {
					ret = math.MaxInt64 // may take effect at any later time
					rec.unknown.Add(1)
				}
				rec.add(porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret})
				if out.Unknown {
					id = int(rec.nextID.Add(1) - 1)
				}
			}
		})
	}

	faults := injectFaults(t, c, set.Seed, p.faults, &wg)
	wg.Wait()
	cancel()
	elapsed := time.Since(rec.base)
	t.Logf("figure: %d operations (%d with an unknown outcome; %d more refused by a stopped master) by %d clients in %v; faults: %s",
		len(rec.ops), rec.unknown.Load(), rec.refused.Load(), p.clients, elapsed.Round(time.Millisecond), faults)

	converged := waitConverged(t, c, p.converge)
	t.Logf("figure: every host converged %v after the faults stopped", converged.Round(time.Millisecond))

	// Last, one client reads every job and deployment: a write acknowledged but lost, with
	// no later call to trip on it, shows here.
	final := int(rec.nextID.Add(1) - 1)
	for _, id := range jobIDs {
		reads := []Input{{Kind: OpGetJob, Job: id}}
		for _, h := range c.hosts {
			reads = append(reads, Input{Kind: OpGet, Job: id, Host: h})
		}
		for _, in := range reads {
			call := rec.now()
			out := do(httpc, c.url(0), in, nil)
			if out.Unknown || out.Status == notSent {
				t.Fatalf("final read %+v with every fault over: %s", in, out.Status)
			}
			rec.add(porcupine.Operation{ClientId: final, Input: in, Call: call, Output: out, Return: rec.now()})
		}
	}

	check(t, rec.ops)
}

// do calls the API and classifies the answer. No answer, or a 5xx (503: etcd unavailable,
// 504: the deadline passed while etcd answered) leaves the outcome unknown.
func do(httpc *http.Client, base string, in Input, jobBody []byte) Output {
	var method, path string
	var body []byte
	switch in.Kind {
	case OpCreate:
		method, path, body = http.MethodPost, "/jobs", jobBody
	case OpRemove:
		method, path = http.MethodDelete, "/jobs/"+string(in.Job)
	case OpDeploy:
		method, path, body = http.MethodPut, "/hosts/"+in.Host+"/jobs/"+string(in.Job), []byte(`{"goal":"START"}`)
	case OpUndeploy:
		method, path = http.MethodDelete, "/hosts/"+in.Host+"/jobs/"+string(in.Job)
	case OpStart:
		method, path, body = http.MethodPatch, "/hosts/"+in.Host+"/jobs/"+string(in.Job), []byte(`{"goal":"START"}`)
	case OpStop:
		method, path, body = http.MethodPatch, "/hosts/"+in.Host+"/jobs/"+string(in.Job), []byte(`{"goal":"STOP"}`)
	case OpGetJob:
		method, path = http.MethodGet, "/jobs/"+string(in.Job)
	case OpGet:
		method, path = http.MethodGet, "/hosts/"+in.Host+"/jobs/"+string(in.Job)
	}
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		return Output{Status: "request: " + err.Error(), Unknown: true}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpc.Do(req)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return Output{Status: notSent} // the master was down: the request never left
	}
	if err != nil {
		return Output{Status: "no answer", Unknown: true}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return Output{Status: "answer cut", Unknown: true}
	}
	var v struct {
		Status string     `json:"status"`
		Goal   model.Goal `json:"goal"` // of a deployment read
	}
	_ = json.Unmarshal(data, &v)
	switch {
	case resp.StatusCode == http.StatusOK && in.Kind == OpGetJob:
		return Output{Status: Exists}
	case resp.StatusCode == http.StatusOK && in.Kind == OpGet:
		return Output{Status: string(v.Goal)}
	}
	if resp.StatusCode >= 500 {
		return Output{Status: fmt.Sprintf("%d %s", resp.StatusCode, v.Status), Unknown: true}
	}
	if v.Status == "" {
		return Output{Status: fmt.Sprintf("%d without a status: %.80q", resp.StatusCode, data)}
	}
	return Output{Status: v.Status}
}

// injectFaults kills and restarts, one at a time, an etcd member, a master or a hollow
// agent, at random times drawn from the seed, at most n times, until the clients are done
// (done is their wait group). It returns a summary of what it did once every piece is
// running again.
func injectFaults(t *testing.T, c *cluster, seed int64, n int, clients *sync.WaitGroup) string {
	rng := rand.New(rand.NewSource(seed))
	finished := make(chan struct{})
	go func() { clients.Wait(); close(finished) }()
	pause := func(min, spread time.Duration) bool {
		select {
		case <-finished:
			return false
		case <-time.After(min + time.Duration(rng.Int63n(int64(spread)))): // the fault schedule, not a synchronisation
			return true
		}
	}
	var members, masters, agents int
	for done := 0; done < n; done++ {
		if !pause(500*time.Millisecond, 1500*time.Millisecond) {
			break
		}
		switch k := rng.Intn(3); k {
		case 0:
			i := rng.Intn(len(c.members))
			t.Logf("fault: etcd member m%d stopped", i)
			c.stopMember(i)
			pause(time.Second, 2*time.Second)
			if err := c.startMember(i); err != nil {
				t.Fatalf("restart member: %v", err)
			}
			members++
		case 1:
			i := rng.Intn(len(c.masters))
			t.Logf("fault: master %d stopped", i)
			c.stopMaster(i)
			pause(500*time.Millisecond, time.Second)
			if err := c.startMaster(i); err != nil {
				t.Fatalf("restart master: %v", err)
			}
			masters++
		default:
			i := rng.Intn(len(c.agents))
			t.Logf("fault: agent %s stopped", c.agents[i].name)
			c.stopAgent(i)
			pause(500*time.Millisecond, 2*time.Second)
			c.startAgent(i)
			agents++
		}
	}
	return fmt.Sprintf("%d etcd member, %d master and %d agent restarts", members, masters, agents)
}

func waitHostsUp(t *testing.T, c *cluster) {
	t.Helper()
	harness.Eventually(t, 30*time.Second, func() error {
		all, err := c.agentSt.HostStatuses(context.Background(), nil)
		if err != nil {
			return err
		}
		for _, h := range c.hosts {
			if hs, ok := all[h]; !ok || hs.Status != model.HostUp {
				return fmt.Errorf("host %s not up", h)
			}
		}
		return nil
	})
}

// waitConverged waits until every host's containers and task statuses match the desired
// state in etcd, and returns how long that took (to the poll's 100 ms).
func waitConverged(t *testing.T, c *cluster, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	harness.Eventually(t, bound, func() error {
		if d := divergence(c); d != "" {
			return fmt.Errorf("not converged after the faults stopped: %s", d)
		}
		return nil
	})
	return time.Since(start)
}

// divergence names the first difference between desired and actual state, or "".
func divergence(c *cluster) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, host := range c.hosts {
		deps, _, _, err := c.agentSt.HostDeployments(ctx, host)
		if err != nil {
			return fmt.Sprintf("%s: read deployments: %v", host, err)
		}
		tasks, err := c.agentSt.TaskStatuses(ctx, host)
		if err != nil {
			return fmt.Sprintf("%s: read task statuses: %v", host, err)
		}
		ctrs, err := c.agents[i].rt.List(ctx, nil)
		if err != nil {
			return fmt.Sprintf("%s: list containers: %v", host, err)
		}
		byJob := map[model.JobID][]agent.Container{}
		for _, ct := range ctrs {
			byJob[model.JobID(ct.JobID())] = append(byJob[model.JobID(ct.JobID())], ct)
		}
		for id, d := range deps {
			ts, ok := tasks[id]
			running := 0
			for _, ct := range byJob[id] {
				if ct.Running {
					running++
				}
			}
			switch d.Goal {
			case model.GoalStart:
				if running != 1 || !ok || ts.State != model.StateRunning {
					return fmt.Sprintf("%s: %s goal START: %d running containers, task status %q", host, id, running, ts.State)
				}
			case model.GoalStop:
				if running != 0 || !ok || ts.State != model.StateStopped {
					return fmt.Sprintf("%s: %s goal STOP: %d running containers, task status %q", host, id, running, ts.State)
				}
			}
		}
		for id, cs := range byJob {
			if _, ok := deps[id]; !ok {
				return fmt.Sprintf("%s: %d containers of %s, which is not deployed there", host, len(cs), id)
			}
		}
		for id := range tasks {
			if _, ok := deps[id]; !ok {
				return fmt.Sprintf("%s: a task status of %s, which is not deployed there", host, id)
			}
		}
	}
	return ""
}

// check runs porcupine over the history; on a failure it writes the visualization to
// HELIOS_ARTIFACTS_DIR (or a kept temp dir) and says where.
func check(t *testing.T, ops []porcupine.Operation) {
	t.Helper()
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(Model(), ops, time.Minute)
	t.Logf("figure: porcupine checked %d operations in %v: %s", len(ops), time.Since(start).Round(time.Millisecond), res)
	if res == porcupine.Ok {
		return
	}
	dir := os.Getenv("HELIOS_ARTIFACTS_DIR")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "helios-robustness-"); err != nil {
			t.Fatalf("history %s; no dir for its visualization: %v", res, err)
		}
	}
	path := filepath.Join(dir, "robustness-"+t.Name()+".html")
	if err := porcupine.VisualizePath(Model(), info, path); err != nil {
		t.Fatalf("history %s; visualization: %v", res, err)
	}
	t.Fatalf("history %s (not linearizable against the model of jobs and deployments); visualization: %s", res, path)
}

// lyingProxy is the broken API that shows the check can fail: with
// HELIOS_ROBUSTNESS_BREAK=undeploy, half the clients' calls go through a proxy in front of
// master 0 that answers every third undeploy "OK" without passing it on, so nothing is
// written. The run must then fail its porcupine check. Unset: nil, no proxy.
func lyingProxy(t *testing.T, c *cluster) *httptest.Server {
	if os.Getenv("HELIOS_ROBUSTNESS_BREAK") != "undeploy" {
		return nil
	}
	target, err := url.Parse(c.url(0))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/hosts/") && n.Add(1)%3 == 0 {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":"OK"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Logf("HELIOS_ROBUSTNESS_BREAK=undeploy: a lying proxy at %s answers every third undeploy OK without writing", srv.URL)
	return srv
}
