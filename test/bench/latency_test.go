package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/agent/docker"
	"github.com/helios-go/helios/test/harness"
	"github.com/helios-go/helios/test/testimage"
)

// Targets of issue 12 for deploy latency on the real engine.
const (
	latencyRuns       = 7
	burstSize         = 20
	overheadTarget    = 30 * time.Millisecond
	throughputTarget  = 0.90
	swarmOverheadPart = 10 // Helios's overhead over create+start at most a tenth of Swarm's
)

// latencyCmd is what every row runs: the same image and command for each.
var latencyCmd = []string{"sleep", "3600"}

// BenchmarkDeployLatency measures, on the real Docker engine with the local busybox image,
// the time from just before a deploy is asked for to the container's State.StartedAt:
// `helios deploy` to a real helios-solo, `docker run -d`, the Docker API's own create+start
// (agent/docker, as the agent calls it) and `docker service create` on a swarm made for the
// bench. The rows take turns, run by run, so load from elsewhere falls on all of them.
// Then 20 deploys at once against 20 concurrent `docker run -d`.
func BenchmarkDeployLatency(b *testing.B) {
	harness.NeedBusybox(b)
	for i := 0; i < b.N; i++ {
		benchDeployLatency(b)
	}
}

// latencyBench is one run's fixtures: the solo, the engine client and the run's label.
type latencyBench struct {
	b      *testing.B
	ctx    context.Context
	d      *docker.Docker
	bins   harness.Binaries
	master string
	host   string
	id     string // the run id: benchLabel's value and part of every name
	swarm  bool   // a swarm made by this run is up
	// madeBridge: docker_gwbridge did not exist before this run's swarm init.
	madeBridge bool
}

func benchDeployLatency(b *testing.B) {
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	d, err := docker.New("")
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	lb := &latencyBench{b: b, ctx: ctx, d: d, bins: harness.BuildBinaries(b), id: harness.RunID(b)}
	lb.host = "bench-lat-" + lb.id
	b.Cleanup(lb.cleanup)
	lb.startSolo()
	swarmSkip := lb.initSwarm()

	rows := map[string][]time.Duration{}
	for i := 0; i < latencyRuns; i++ {
		rows["helios"] = append(rows["helios"], lb.must(lb.heliosDeploy(fmt.Sprintf("lat%d", i))))
		rows["run"] = append(rows["run"], lb.must(lb.dockerRun()))
		rows["api"] = append(rows["api"], lb.must(lb.apiCreateStart(i)))
		if swarmSkip == "" {
			lat, err := lb.swarmService(i)
			if err != nil {
				swarmSkip = fmt.Sprintf("docker service create failed: %v", err)
				delete(rows, "swarm") // a row of fewer rounds would not be comparable
				continue
			}
			rows["swarm"] = append(rows["swarm"], lat)
		}
	}
	heliosBurst := lb.must(lb.heliosBurst())
	runBurst := lb.must(lb.dockerRunBurst())
	lb.report(rows, swarmSkip, heliosBurst, runBurst)
}

// must fails the bench on err and otherwise passes d on.
func (lb *latencyBench) must(d time.Duration, err error) time.Duration {
	lb.b.Helper()
	if err != nil {
		lb.b.Fatal(err)
	}
	return d
}

// startSolo starts helios-solo on the real engine and waits until its host is UP.
func (lb *latencyBench) startSolo() {
	b := lb.b
	api := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(b))
	dir := b.TempDir()
	harness.Start(b, lb.bins.Path("helios-solo"),
		"--name", lb.host,
		"--http", api,
		"--data-dir", dir+"/etcd",
		"--state-dir", dir+"/agent",
		"--etcd-client-url", fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(b)),
		"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(b)),
		"--agent-metrics", "")
	lb.master = "http://" + api
	harness.Eventually(b, 60*time.Second, func() error {
		resp, err := http.Get(lb.master + "/hosts/" + lb.host + "/status")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		out := string(body)
		if !strings.Contains(out, `"status":"UP"`) {
			return fmt.Errorf("host %s not UP yet: %s", lb.host, out)
		}
		return nil
	})
}

// helios runs the CLI against the solo.
func (lb *latencyBench) helios(args ...string) (string, error) {
	return run(lb.ctx, lb.bins.Path("helios"), append([]string{"-z", lb.master}, args...)...)
}

// heliosDeploy creates job name:1 (before the clock starts), then times `helios deploy`
// to the container's StartedAt.
func (lb *latencyBench) heliosDeploy(name string) (time.Duration, error) {
	if _, err := lb.helios(append([]string{"create", name + ":1", testimage.BusyboxTag, "--"}, latencyCmd...)...); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(lb.ctx)
	defer cancel()
	ch := starts(ctx, lb.d, map[string]string{agent.LabelHost: lb.host})
	t0 := time.Now()
	if _, err := lb.helios("deploy", name+":1", lb.host); err != nil {
		return 0, err
	}
	at, err := startedAt(ctx, lb.d, ch, 1)
	return at.Sub(t0), err
}

// dockerRun times `docker run -d` of the same image and command to StartedAt.
func (lb *latencyBench) dockerRun() (time.Duration, error) {
	t0 := time.Now()
	id, err := run(lb.ctx, "docker", append([]string{"run", "-d", "--label", benchLabel + "=" + lb.id, testimage.BusyboxTag}, latencyCmd...)...)
	if err != nil {
		return 0, err
	}
	c, err := lb.d.Inspect(lb.ctx, id)
	return c.StartedAt.Sub(t0), err
}

// apiCreateStart times the engine API's create and start, as the agent calls them.
func (lb *latencyBench) apiCreateStart(i int) (time.Duration, error) {
	spec := agent.ContainerSpec{
		Name:   fmt.Sprintf("bench-lat-%s-api%d", lb.id, i),
		Image:  testimage.BusyboxTag,
		Cmd:    latencyCmd,
		Labels: map[string]string{benchLabel: lb.id},
	}
	t0 := time.Now()
	id, err := lb.d.Create(lb.ctx, spec)
	if err != nil {
		return 0, err
	}
	if err := lb.d.Start(lb.ctx, id); err != nil {
		return 0, err
	}
	c, err := lb.d.Inspect(lb.ctx, id)
	return c.StartedAt.Sub(t0), err
}

// heliosBurst creates burstSize jobs, then deploys them all at once (one `helios deploy`
// each, concurrently) and returns the time until the last container's StartedAt.
func (lb *latencyBench) heliosBurst() (time.Duration, error) {
	names := make([]string, burstSize)
	for i := range names {
		names[i] = fmt.Sprintf("burst%02d:1", i)
		if _, err := lb.helios(append([]string{"create", names[i], testimage.BusyboxTag, "--"}, latencyCmd...)...); err != nil {
			return 0, err
		}
	}
	ctx, cancel := context.WithCancel(lb.ctx)
	defer cancel()
	ch := starts(ctx, lb.d, map[string]string{agent.LabelHost: lb.host})
	t0 := time.Now()
	err := concurrently(len(names), func(i int) error {
		_, err := lb.helios("deploy", names[i], lb.host)
		return err
	})
	if err != nil {
		return 0, err
	}
	at, err := startedAt(ctx, lb.d, ch, burstSize)
	return at.Sub(t0), err
}

// dockerRunBurst runs burstSize `docker run -d` at once and returns the time until the
// last container's StartedAt.
func (lb *latencyBench) dockerRunBurst() (time.Duration, error) {
	var mu sync.Mutex
	var last time.Time
	t0 := time.Now()
	err := concurrently(burstSize, func(int) error {
		id, err := run(lb.ctx, "docker", append([]string{"run", "-d", "--label", benchLabel + "=" + lb.id, testimage.BusyboxTag}, latencyCmd...)...)
		if err != nil {
			return err
		}
		c, err := lb.d.Inspect(lb.ctx, id)
		mu.Lock()
		defer mu.Unlock()
		if c.StartedAt.After(last) {
			last = c.StartedAt
		}
		return err
	})
	return last.Sub(t0), err
}

// concurrently runs f(0..n-1) at once and returns their errors joined.
func concurrently(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f(i) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// cleanup runs after the solo is killed (it was registered before the solo started, and
// cleanups run last first), so no agent restarts what it removes: the run's services and
// swarm, then its containers by their labels (benchLabel, or the solo's host label).
func (lb *latencyBench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lb.leaveSwarm(ctx)
	if err := removeLabelled(ctx, lb.id); err != nil {
		lb.b.Errorf("remove the bench's containers: %v", err)
	}
	out, err := run(ctx, "docker", "ps", "-aq", "--filter", "label="+agent.LabelHost+"="+lb.host)
	if err == nil && out != "" {
		_, err = run(ctx, "docker", append([]string{"rm", "-f", "-v"}, fieldsOf(out)...)...)
	}
	if err != nil {
		lb.b.Errorf("remove the solo's containers: %v", err)
	}
}
