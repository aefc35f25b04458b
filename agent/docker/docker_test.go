package docker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/agent/docker"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	testharness "github.com/helios-go/helios/test/harness"
	"github.com/helios-go/helios/test/testimage"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// These tests run the agent against the real Docker engine with the locally built test
// image. Every container they make carries labelRun=runID and is removed at the end.
const labelRun = "helios.test-run"

var (
	runID     = randHex(4)
	etcdCli   *clientv3.Client
	dockerErr error // why Docker cannot be used, nil if it can
	imageOnce sync.Once
	imageErr  error
	hostSeq   atomic.Int64
)

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestMain(m *testing.M) {
	dockerErr = testharness.DockerProblem()
	dir, err := os.MkdirTemp("", "docker-e2e-etcd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cli, e, err := storetest.Start(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	etcdCli = cli
	code := m.Run()
	cleanupRun()
	cli.Close()
	e.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cleanupRun removes every container and volume this run made.
func cleanupRun() {
	if dockerErr != nil {
		return
	}
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label="+labelRun+"="+runID).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.Command("docker", append([]string{"rm", "-f", "-v"}, ids...)...).Run()
	}
	out, _ = exec.Command("docker", "volume", "ls", "-q", "--filter", "name=helios-test-"+runID).Output()
	if vs := strings.Fields(string(out)); len(vs) > 0 {
		_ = exec.Command("docker", append([]string{"volume", "rm", "-f"}, vs...)...).Run()
	}
}

func needDocker(t *testing.T) *docker.Docker {
	t.Helper()
	if dockerErr != nil {
		testharness.Missing(t, "%v", dockerErr) // a failure under HELIOS_REQUIRE_DOCKER=1
	}
	imageOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		imageErr = testimage.Build(ctx, testimage.Tag)
	})
	if imageErr != nil {
		t.Fatalf("build test image: %v", imageErr)
	}
	d, err := docker.New("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestEngineInfoNegotiatesAPIVersion(t *testing.T) {
	d := needDocker(t)
	info, err := d.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	if info.Version != f[0] || info.APIVersion != f[1] {
		t.Errorf("engine info %s API %s, docker version says %v", info.Version, info.APIVersion, f)
	}
}

// harness is an agent on the real engine over the shared etcd.
type harness struct {
	t      *testing.T
	d      *docker.Docker
	st     *store.Store
	name   string
	dir    string
	cfg    agent.Config
	reg    *prometheus.Registry // the running agent's metrics
	cancel context.CancelFunc
	done   chan error
}

func newHarness(t *testing.T, mod func(*agent.Config)) *harness {
	d := needDocker(t)
	h := &harness{t: t, d: d, st: storetest.OpenEndpoints(t, etcdCli.Endpoints(), store.Config{Prefix: "/e2e"}),
		name: fmt.Sprintf("e2e-%s-%d", runID, hostSeq.Add(1)), dir: t.TempDir()}
	base := 42000 + int(hostSeq.Load())*100 // disjoint ranges: agents share the engine
	h.cfg = agent.Config{
		Name: h.name, Store: h.st, Runtime: d,
		KeepUp: func(ctx context.Context) error {
			return h.st.KeepLeased(ctx, 2*time.Second, nil, func(ctx context.Context, l store.LeaseID) error { return h.st.PutUp(ctx, h.name, l) })
		},
		WatchPrefix:    h.st.Keys().Host(h.name),
		PortRange:      agent.PortRange{Start: base, End: base + 100},
		StateDir:       h.dir,
		ResyncInterval: 500 * time.Millisecond,
		RestartDelay:   200 * time.Millisecond,
		Defaults:       agent.HostDefaults{Env: map[string]string{"AGENT_ENV": "yes"}},
	}
	if mod != nil {
		mod(&h.cfg)
	}
	t.Cleanup(func() {
		h.stop()
		// Remove this agent's containers even if the test failed half-way.
		cs, _ := d.List(context.Background(), map[string]string{agent.LabelHost: h.name})
		for _, c := range cs {
			_ = d.Remove(context.Background(), c.ID)
		}
	})
	return h
}

func (h *harness) start() {
	h.t.Helper()
	h.reg = prometheus.NewRegistry() // a new agent registers its metrics anew
	h.cfg.Registerer = h.reg
	a, err := agent.New(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- a.Run(ctx) }()
	h.eventually("host up", 15*time.Second, func() bool {
		hs, err := h.st.HostStatus(context.Background(), h.name)
		return err == nil && hs.Status == model.HostUp
	})
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("agent: %v", err)
	}
	h.cancel = nil
}

func (h *harness) eventually(what string, d time.Duration, f func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("timed out after %s waiting for %s", d, what)
}

// healthChecks is the running agent's count of health checks of type typ with result
// ("pass" or "fail").
func (h *harness) healthChecks(typ, result string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "helios_agent_health_checks_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["type"] == typ && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// resyncs is the running agent's count of periodic resyncs (helios_agent_resyncs_total).
func (h *harness) resyncs() float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "helios_agent_resyncs_total" && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

func (h *harness) job(name string, mod func(*model.Job)) model.JobID {
	h.t.Helper()
	j := model.Job{Image: testimage.Tag, Labels: map[string]string{labelRun: runID}}
	if mod != nil {
		mod(&j)
	}
	j, err := model.WithComputedID(name, "1", j)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.st.CreateJob(context.Background(), j); err != nil {
		h.t.Fatal(err)
	}
	if err := h.st.Deploy(context.Background(), h.name, model.Deployment{JobID: j.ID, Goal: model.GoalStart}, ""); err != nil {
		h.t.Fatal(err)
	}
	return j.ID
}

func (h *harness) waitState(id model.JobID, want model.State, cond func(model.TaskStatus) bool) model.TaskStatus {
	h.t.Helper()
	var st model.TaskStatus
	h.eventually(fmt.Sprintf("%s %s", id.Name(), want), 30*time.Second, func() bool {
		sts, err := h.st.TaskStatuses(context.Background(), h.name)
		if err != nil {
			return false
		}
		st = sts[id]
		return st.State == want && (cond == nil || cond(st))
	})
	return st
}

func (h *harness) inspect(id string) container.InspectResponse {
	h.t.Helper()
	r, err := h.d.Client().ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return r.Container
}

func TestEveryJobOptionReachesDocker(t *testing.T) {
	bindDir, agentBind := t.TempDir(), t.TempDir()
	h := newHarness(t, func(c *agent.Config) {
		c.Defaults.DNS = []string{"10.9.9.9"}
		c.Defaults.Binds = []agent.Mount{{Type: agent.MountBind, Source: agentBind, Target: "/agent-bind", ReadOnly: true}}
		c.Defaults.ExtraHosts = []string{"db.example:10.1.2.3"}
		c.Defaults.SyslogRedirectTo = "127.0.0.1:5514"
	})
	h.start()
	runtime := otherRuntime(t)
	mem, swap, shares, static := int64(64<<20), int64(128<<20), int64(512), 43999-int(hostSeq.Load())
	vol := "helios-test-" + runID + "-named"
	id := h.job("options", func(j *model.Job) {
		j.Command = []string{"serve"}
		j.Env = map[string]string{"JOB_ENV": "j", "AGENT_ENV": "job-wins"}
		j.Ports = map[string]model.PortMapping{
			"http": {InternalPort: 8080},
			"dns":  {InternalPort: 53, ExternalPort: &static, Protocol: "udp", IP: "127.0.0.1"},
		}
		j.Volumes = map[string]string{"/data": "", "/named:ro": vol, "/bound:rw": bindDir}
		j.Ramdisks = map[string]string{"/scratch": "rw,size=1m"}
		j.Resources = &model.Resources{Memory: &mem, MemorySwap: &swap, CPUShares: &shares, CPUSet: "0"}
		j.AddCapabilities = []string{"NET_ADMIN"}
		j.DropCapabilities = []string{"MKNOD"}
		j.SecurityOpt = []string{"no-new-privileges"}
		j.NetworkMode = "none" // not the engine's default (bridge), so the assertion can fail
		j.Hostname = "optbox"
		j.Runtime = runtime
		j.Labels["team"] = "helios"
	})
	st := h.waitState(id, model.StateRunning, nil)
	c := h.inspect(st.ContainerID)
	hc, cfg := c.HostConfig, c.Config

	if hc.Init == nil || !*hc.Init {
		t.Error("init not on")
	}
	if !slices.Equal(cfg.Cmd, []string{"serve"}) || cfg.Hostname != "optbox" || cfg.Labels["team"] != "helios" || cfg.Labels[agent.LabelJobID] != string(id) {
		t.Errorf("config: cmd %v hostname %q labels %v", cfg.Cmd, cfg.Hostname, cfg.Labels)
	}
	if hc.Memory != mem || hc.MemorySwap != swap || hc.CPUShares != shares || hc.CpusetCpus != "0" {
		t.Errorf("resources: mem %d swap %d shares %d cpuset %q", hc.Memory, hc.MemorySwap, hc.CPUShares, hc.CpusetCpus)
	}
	hasCap := func(caps []string, c string) bool { return slices.Contains(caps, c) || slices.Contains(caps, "CAP_"+c) } // 20.10 adds CAP_
	if !hasCap(hc.CapAdd, "NET_ADMIN") || !hasCap(hc.CapDrop, "MKNOD") || !slices.Contains(hc.SecurityOpt, "no-new-privileges") {
		t.Errorf("caps %v / %v secopt %v", hc.CapAdd, hc.CapDrop, hc.SecurityOpt)
	}
	if _, ok := c.NetworkSettings.Networks["none"]; hc.NetworkMode != "none" || !ok || hc.Tmpfs["/scratch"] != "rw,size=1m" {
		t.Errorf("network mode %q networks %v tmpfs %v", hc.NetworkMode, slices.Collect(maps.Keys(c.NetworkSettings.Networks)), hc.Tmpfs)
	}
	if runtime == "" {
		t.Log("runtime not checked: the engine has no runtime but its default")
	} else if hc.Runtime != runtime {
		t.Errorf("runtime %q, want %q", hc.Runtime, runtime)
	}
	if len(hc.DNS) != 1 || hc.DNS[0].String() != "10.9.9.9" || !slices.Contains(hc.ExtraHosts, "db.example:10.1.2.3") {
		t.Errorf("dns %v extra hosts %v", hc.DNS, hc.ExtraHosts)
	}
	if hc.LogConfig.Type != "syslog" || hc.LogConfig.Config["syslog-address"] != "udp://127.0.0.1:5514" || hc.LogConfig.Config["tag"] != string(id) {
		t.Errorf("log config %+v", hc.LogConfig)
	}
	mounts := map[string]string{}
	for _, m := range c.Mounts {
		mounts[m.Destination] = fmt.Sprintf("%s %s rw=%v", m.Type, m.Source, m.RW)
		if m.Type == "volume" && m.Destination == "/named" && m.Name != vol {
			t.Errorf("named volume %q, want %q", m.Name, vol)
		}
	}
	for dst, want := range map[string]string{"/bound": "bind " + bindDir + " rw=true", "/agent-bind": "bind " + agentBind + " rw=false"} {
		if mounts[dst] != want {
			t.Errorf("mount %s = %q, want %q", dst, mounts[dst], want)
		}
	}
	if !strings.HasPrefix(mounts["/data"], "volume ") || !strings.HasSuffix(mounts["/named"], "rw=false") {
		t.Errorf("mounts %v", mounts)
	}
	var httpPort int
	for p, bs := range hc.PortBindings {
		switch {
		case p.Num() == 8080 && p.Proto() == "tcp":
			fmt.Sscan(bs[0].HostPort, &httpPort)
		case p.Num() == 53 && p.Proto() == "udp":
			if bs[0].HostPort != fmt.Sprint(static) || bs[0].HostIP.String() != "127.0.0.1" {
				t.Errorf("static udp binding %+v", bs)
			}
		}
	}
	if httpPort < h.cfg.PortRange.Start || httpPort >= h.cfg.PortRange.End {
		t.Errorf("dynamic port %d outside %+v", httpPort, h.cfg.PortRange)
	}
	if got := st.Ports["http"].ExternalPort; got == nil || *got != httpPort {
		t.Errorf("status ports %+v, container binds %d", st.Ports, httpPort)
	}

	// Inside the container.
	code, out, err := h.d.Exec(context.Background(), st.ContainerID, []string{"/prog", "env"})
	if err != nil || code != 0 {
		t.Fatalf("exec env: %d %v", code, err)
	}
	env := string(out)
	for _, want := range []string{
		fmt.Sprintf("HELIOS_PORT_http=%s:%d", h.name, httpPort),
		fmt.Sprintf("HELIOS_PORT_dns=%s:%d", h.name, static),
		"JOB_ENV=j", "AGENT_ENV=job-wins",
	} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("env inside lacks %s:\n%s", want, env)
		}
	}
}

// otherRuntime is a runtime the engine has besides its default (Docker lists
// io.containerd.runc.v2 next to runc), so that asserting a job's runtime can fail; "" when
// it has none.
func otherRuntime(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("docker", "info", "--format", "{{.DefaultRuntime}}{{range $name, $_ := .Runtimes}} {{$name}}{{end}}").Output()
	if err != nil {
		t.Fatalf("docker info: %v", err)
	}
	f := strings.Fields(string(out))
	for _, r := range f[1:] {
		if r != f[0] {
			return r
		}
	}
	return ""
}

// TestJobJoinsAnotherContainersNetwork: networkMode container:<id> puts the job into that
// container's network namespace, so a port the job listens on answers at the other
// container's address.
func TestJobJoinsAnotherContainersNetwork(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	// Not named or labelled as the agent's, so its reaper leaves it alone.
	peer, err := h.d.Create(ctx, agent.ContainerSpec{
		Name: "e2e-peer-" + h.name, Image: testimage.Tag, Init: true, Labels: map[string]string{labelRun: runID},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.d.Remove(context.Background(), peer) })
	if err := h.d.Start(ctx, peer); err != nil {
		t.Fatal(err)
	}
	peerIP := ""
	for _, ep := range h.inspect(peer).NetworkSettings.Networks {
		if ep != nil && ep.IPAddress.IsValid() {
			peerIP = ep.IPAddress.String()
		}
	}
	if peerIP == "" {
		t.Fatal("the peer container has no address on the default network")
	}
	h.start()
	id := h.job("joins", func(j *model.Job) {
		j.Env = map[string]string{"LISTEN": "9000"}
		j.NetworkMode = "container:" + peer
	})
	st := h.waitState(id, model.StateRunning, nil)
	if got := h.inspect(st.ContainerID).HostConfig.NetworkMode; string(got) != "container:"+peer {
		t.Errorf("network mode %q, want container:%s", got, short(peer))
	}
	h.eventually("the job's port answering at the peer's address", 15*time.Second, func() bool {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(peerIP, "9000"), time.Second)
		if err != nil {
			return false
		}
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		b, _ := io.ReadAll(conn)
		return strings.HasPrefix(string(b), "hello from")
	})
}

func TestKilledContainerRestarted(t *testing.T) {
	h := newHarness(t, nil)
	h.start()
	id := h.job("killme", nil)
	first := h.waitState(id, model.StateRunning, nil)
	if out, err := exec.Command("docker", "kill", first.ContainerID).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v %s", err, out)
	}
	second := h.waitState(id, model.StateRunning, func(s model.TaskStatus) bool { return s.ContainerID != first.ContainerID })
	cs, err := h.d.List(context.Background(), map[string]string{agent.LabelHost: h.name})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].ID != second.ContainerID || !cs[0].Running {
		t.Errorf("want only the new running container, got %+v", cs)
	}
}

func TestAgentRestartKeepsContainers(t *testing.T) {
	h := newHarness(t, nil)
	h.start()
	ids := []model.JobID{h.job("keep1", nil), h.job("keep2", nil)}
	started := map[string]time.Time{}
	for _, id := range ids {
		st := h.waitState(id, model.StateRunning, nil)
		c, err := h.d.Inspect(context.Background(), st.ContainerID)
		if err != nil {
			t.Fatal(err)
		}
		started[c.ID] = c.StartedAt
	}
	h.stop()
	h.start()
	// "Nothing was replaced" needs a positive marker: three full resyncs of the new agent.
	h.eventually("three resyncs of the restarted agent", 20*time.Second, func() bool { return h.resyncs() >= 3 })
	cs, err := h.d.List(context.Background(), map[string]string{agent.LabelHost: h.name})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("containers after restart: %+v", cs)
	}
	for _, c := range cs {
		if s, ok := started[c.ID]; !ok || !s.Equal(c.StartedAt) || !c.Running {
			t.Errorf("container %s: known %v, started %v then %v, running %v", c.ID[:12], ok, s, c.StartedAt, c.Running)
		}
	}
}

func TestStopSendsSIGTERMAndKeepsContainer(t *testing.T) {
	h := newHarness(t, nil)
	h.start()
	dir := t.TempDir()
	wait := 30
	id := h.job("term", func(j *model.Job) {
		j.Env = map[string]string{"MARKER": "/marker/term", "READY": "/marker/ready"}
		j.Volumes = map[string]string{"/marker": dir}
		j.SecondsToWaitBeforeKill = &wait
	})
	h.waitState(id, model.StateRunning, nil)
	h.eventually("prog's SIGTERM handler in place", 20*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(dir, "ready"))
		return err == nil
	})
	t0 := time.Now()
	if err := h.st.SetGoal(context.Background(), h.name, id, model.GoalStop, ""); err != nil {
		t.Fatal(err)
	}
	st := h.waitState(id, model.StateStopped, nil)
	if el := time.Since(t0); el > 15*time.Second {
		t.Errorf("stop took %s: SIGTERM not honoured?", el)
	}
	b, err := os.ReadFile(filepath.Join(dir, "term"))
	if err != nil || !strings.Contains(string(b), "terminated") {
		t.Errorf("marker %q, %v: SIGTERM not delivered", b, err)
	}
	c, err := h.d.Inspect(context.Background(), st.ContainerID)
	if err != nil || c.Running {
		t.Errorf("container after STOP: %+v %v (want kept, stopped)", c, err)
	}
	// Undeploy removes it and the status.
	if err := h.st.Undeploy(context.Background(), h.name, id, ""); err != nil {
		t.Fatal(err)
	}
	h.eventually("container removed", 20*time.Second, func() bool {
		_, err := h.d.Inspect(context.Background(), st.ContainerID)
		return err != nil
	})
}

func TestUnwantedHeliosContainerReaped(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	// The agent reaps only containers of its own cluster: learn (or make) the cluster id first.
	cluster, err := h.st.EnsureClusterUID(ctx, "e2e-"+runID)
	if err != nil {
		t.Fatal(err)
	}
	spy, err := h.d.Create(ctx, agent.ContainerSpec{
		Name: "helios-" + h.name + "-ghost", Image: testimage.Tag, Init: true,
		Labels: map[string]string{agent.LabelHost: h.name, agent.LabelCluster: cluster, agent.LabelJobID: "ghost:1:0000000000000000000000000000000000000000", labelRun: runID},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.d.Start(ctx, spy); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.eventually("ghost reaped", 20*time.Second, func() bool {
		_, err := h.d.Inspect(ctx, spy)
		return err != nil
	})
}
