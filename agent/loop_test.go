package agent_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/agent/fake"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// One etcd for the whole package; each test uses its own host names.
var (
	etcdCli  *clientv3.Client
	hostSeq  atomic.Int64
	testRoot = "/agent-test"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "agent-etcd")
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
	cli.Close()
	e.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// harness is one agent with a fake runtime over the shared etcd.
type harness struct {
	t      *testing.T
	st     *store.Store
	rt     *fake.Runtime
	name   string
	dir    string
	cancel context.CancelFunc
	done   chan error
	cfg    func(*agent.Config)
	reg    *prometheus.Registry // the agent's metrics, shared by its restarts
	agent  *agent.Agent         // the one running now
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{
		t:    t,
		st:   storetest.OpenEndpoints(t, etcdCli.Endpoints(), store.Config{Prefix: testRoot}),
		rt:   fake.New(),
		name: fmt.Sprintf("host%d", hostSeq.Add(1)),
		dir:  t.TempDir(),
		reg:  prometheus.NewRegistry(),
	}
}

func (h *harness) config() agent.Config {
	cfg := agent.Config{
		Name:    h.name,
		Store:   h.st,
		Runtime: h.rt,
		KeepUp: func(ctx context.Context) error {
			return h.st.KeepLeased(ctx, 2*time.Second, nil, func(ctx context.Context, lease store.LeaseID) error {
				return h.st.PutUp(ctx, h.name, lease)
			})
		},
		WatchPrefix:    h.st.Keys().Host(h.name),
		Labels:         map[string]string{"role": "test"},
		Defaults:       agent.HostDefaults{Env: map[string]string{"AGENT_ENV": "a", "OVERRIDE": "agent"}},
		PortRange:      agent.PortRange{Start: 40000, End: 40100},
		StateDir:       h.dir,
		ResyncInterval: 300 * time.Millisecond,
		RestartDelay:   200 * time.Millisecond,
		Version:        "test",
		PortFree:       func(string, int) bool { return true },
		Registerer:     h.reg,
	}
	if h.cfg != nil {
		h.cfg(&cfg)
	}
	return cfg
}

// start runs the agent until stop or the end of the test, and waits until it registered.
func (h *harness) start() {
	h.t.Helper()
	a, err := agent.New(h.config())
	if err != nil {
		h.t.Fatal(err)
	}
	h.agent = a
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- a.Run(ctx) }()
	h.t.Cleanup(h.stop)
	h.eventually("host registered and up", func() bool {
		hs, err := h.st.HostStatus(context.Background(), h.name)
		return err == nil && hs.Status == model.HostUp
	})
}

// waitRegistered waits for the agent to register the host (for agents without an up key).
func (h *harness) waitRegistered() {
	h.t.Helper()
	h.eventually("host registered", func() bool {
		_, err := h.st.HostID(context.Background(), h.name)
		return err == nil
	})
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("agent Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Error("agent did not stop")
	}
	h.cancel = nil
}

func (h *harness) eventually(what string, f func() bool) {
	h.t.Helper()
	// Generous: on a loaded 2-core machine an etcd restart and the client's reconnect take
	// seconds; a real failure still fails, only later.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("timed out waiting for: %s", what)
}

// metric is the value of one counter or gauge series of the agent (0 if absent).
func (h *harness) metric(name string, labels map[string]string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, p := range m.GetLabel() {
				if v, ok := labels[p.GetName()]; ok && v != p.GetValue() {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// waitResyncs waits until the agent has done n more full resyncs: the positive marker of a
// "nothing happened" check (no fixed sleep).
func (h *harness) waitResyncs(n int) {
	h.t.Helper()
	target := h.metric("helios_agent_resyncs_total", nil) + float64(n)
	h.eventually(fmt.Sprintf("%d more resyncs", n), func() bool {
		return h.metric("helios_agent_resyncs_total", nil) >= target
	})
}

func (h *harness) createJob(name string, mod func(*model.Job)) model.JobID {
	h.t.Helper()
	j := model.Job{
		Image:   "busybox:latest",
		Command: []string{"sleep", "1000"},
		Env:     map[string]string{"JOB_ENV": "j", "OVERRIDE": "job"},
		Ports:   map[string]model.PortMapping{"http": {InternalPort: 8080}},
	}
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
	return j.ID
}

func (h *harness) deploy(id model.JobID, goal model.Goal) {
	h.t.Helper()
	if err := h.st.Deploy(context.Background(), h.name, model.Deployment{JobID: id, Goal: goal}, ""); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) status(id model.JobID) (model.TaskStatus, bool) {
	sts, err := h.st.TaskStatuses(context.Background(), h.name)
	if err != nil {
		h.t.Fatal(err)
	}
	st, ok := sts[id]
	return st, ok
}

func (h *harness) waitState(id model.JobID, want model.State) model.TaskStatus {
	h.t.Helper()
	var st model.TaskStatus
	h.eventually(fmt.Sprintf("%s %s", id.Name(), want), func() bool {
		var ok bool
		st, ok = h.status(id)
		return ok && st.State == want
	})
	return st
}

func (h *harness) containers() []agent.Container {
	cs, err := h.rt.List(context.Background(), map[string]string{agent.LabelHost: h.name})
	if err != nil {
		h.t.Fatal(err)
	}
	return cs
}

// clusterID is the cluster id of the harness's key root (created by its first agent).
func (h *harness) clusterID() string {
	h.t.Helper()
	id, err := h.st.EnsureClusterUID(context.Background(), "unused-proposal")
	if err != nil || id == "unused-proposal" {
		h.t.Fatalf("cluster id = %q, %v; want the one an agent created", id, err)
	}
	return id
}

func (h *harness) history(id model.JobID) []model.State {
	evs, err := h.st.History(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []model.State
	for _, e := range evs {
		out = append(out, e.Status.State)
	}
	return out
}

func statesString(s []model.State) string {
	var b []string
	for _, x := range s {
		b = append(b, string(x))
	}
	return strings.Join(b, ",")
}

func TestDeployRunsContainerWithHistory(t *testing.T) {
	h := newHarness(t)
	h.start()
	id := h.createJob("web", nil)
	h.deploy(id, model.GoalStart)
	st := h.waitState(id, model.StateRunning)

	if got := statesString(h.history(id)); got != "CREATING,STARTING,RUNNING" {
		t.Errorf("history = %s, want CREATING,STARTING,RUNNING", got)
	}
	if n := h.metric("helios_agent_actions_total", map[string]string{"action": "start", "reason": "no-container"}); n != 1 {
		t.Errorf("actions_total{start,no-container} = %v, want 1", n)
	}
	cs := h.containers()
	if len(cs) != 1 || !cs[0].Running || cs[0].ID != st.ContainerID {
		t.Fatalf("containers = %+v, want one running with id %s", cs, st.ContainerID)
	}
	if cs[0].Labels[agent.LabelJobID] != string(id) || cs[0].Labels[agent.LabelSpecHash] == "" {
		t.Errorf("labels = %v", cs[0].Labels)
	}
	if !strings.HasPrefix(cs[0].Name, "helios-"+h.name+"-web_1_") {
		t.Errorf("name = %q", cs[0].Name)
	}
	spec, _ := h.rt.Spec(cs[0].ID)
	ext := st.Ports["http"].ExternalPort
	if ext == nil || *ext < 40000 || *ext >= 40100 {
		t.Fatalf("status ports = %+v, want a dynamic port in 40000:40100", st.Ports)
	}
	env := strings.Join(spec.Env, " ")
	for _, want := range []string{"AGENT_ENV=a", "JOB_ENV=j", "OVERRIDE=job", fmt.Sprintf("HELIOS_PORT_http=%s:%d", h.name, *ext)} {
		if !strings.Contains(env, want) {
			t.Errorf("container env %q lacks %s", env, want)
		}
	}
	if !spec.Init {
		t.Error("container not run with init")
	}

	hs, err := h.st.HostStatus(context.Background(), h.name)
	if err != nil {
		t.Fatal(err)
	}
	if hs.Labels["role"] != "test" || hs.Environment["AGENT_ENV"] != "a" {
		t.Errorf("host labels %v env %v", hs.Labels, hs.Environment)
	}
	if hs.HostInfo == nil || hs.HostInfo.CPUs <= 0 || hs.HostInfo.MemoryTotalBytes <= 0 || hs.AgentInfo == nil || hs.AgentInfo.Version != "test" {
		t.Errorf("host info %+v agent info %+v", hs.HostInfo, hs.AgentInfo)
	}
}

func TestDynamicPortsDoNotCollide(t *testing.T) {
	h := newHarness(t)
	h.cfg = func(c *agent.Config) { c.PortRange = agent.PortRange{Start: 41000, End: 41003} }
	h.start()
	seen := map[int]bool{}
	for i := range 3 {
		id := h.createJob(fmt.Sprintf("p%d", i), nil)
		h.deploy(id, model.GoalStart)
		st := h.waitState(id, model.StateRunning)
		p := *st.Ports["http"].ExternalPort
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}

func TestUndeployRemovesContainerAndStatus(t *testing.T) {
	h := newHarness(t)
	h.start()
	id := h.createJob("gone", nil)
	h.deploy(id, model.GoalStart)
	h.waitState(id, model.StateRunning)
	if err := h.st.Undeploy(context.Background(), h.name, id, ""); err != nil {
		t.Fatal(err)
	}
	h.eventually("status deleted", func() bool { _, ok := h.status(id); return !ok })
	if cs := h.containers(); len(cs) != 0 {
		t.Errorf("containers left: %+v", cs)
	}
	if got := statesString(h.history(id)); got != "CREATING,STARTING,RUNNING,STOPPING,STOPPED" {
		t.Errorf("history = %s", got)
	}
	if n := h.metric("helios_agent_actions_total", map[string]string{"action": "remove", "reason": "no-deployment"}); n != 1 {
		t.Errorf("actions_total{remove,no-deployment} = %v, want 1", n)
	}
	if err := h.st.RemoveJob(context.Background(), id, ""); err != nil {
		t.Errorf("job not removable after undeploy: %v", err)
	}
}

func TestRemovedTaskLeavesNoStateBehind(t *testing.T) {
	h := newHarness(t)
	h.start()
	id := h.createJob("ephemeral", nil)
	h.deploy(id, model.GoalStart)
	first := h.waitState(id, model.StateRunning)
	// One exit, so the task has a run log and a flapping verdict to forget.
	if err := h.rt.Kill(first.ContainerID, 1); err != nil {
		t.Fatal(err)
	}
	h.eventually("container replaced", func() bool {
		st, ok := h.status(id)
		return ok && st.State == model.StateRunning && st.ContainerID != first.ContainerID
	})
	if err := h.st.Undeploy(context.Background(), h.name, id, ""); err != nil {
		t.Fatal(err)
	}
	h.eventually("status deleted", func() bool { _, ok := h.status(id); return !ok })
	h.waitResyncs(2)
	if ids := h.agent.TaskIDs(); len(ids) != 0 {
		t.Errorf("state kept for removed jobs %v", ids)
	}
}

func TestGoalStopKeepsContainerAndStartRestarts(t *testing.T) {
	h := newHarness(t)
	h.start()
	id := h.createJob("stoppable", nil)
	h.deploy(id, model.GoalStart)
	first := h.waitState(id, model.StateRunning)
	if err := h.st.SetGoal(context.Background(), h.name, id, model.GoalStop, ""); err != nil {
		t.Fatal(err)
	}
	st := h.waitState(id, model.StateStopped)
	if st.Goal != model.GoalStop || st.ContainerID != first.ContainerID {
		t.Errorf("stopped status %+v", st)
	}
	cs := h.containers()
	if len(cs) != 1 || cs[0].Running {
		t.Fatalf("want the container kept, stopped: %+v", cs)
	}
	if got := statesString(h.history(id)); got != "CREATING,STARTING,RUNNING,STOPPING,STOPPED" {
		t.Errorf("history = %s", got)
	}
	if err := h.st.SetGoal(context.Background(), h.name, id, model.GoalStart, ""); err != nil {
		t.Fatal(err)
	}
	st = h.waitState(id, model.StateRunning)
	if st.Goal != model.GoalStart {
		t.Errorf("goal %s", st.Goal)
	}
	if cs := h.containers(); len(cs) != 1 || !cs[0].Running {
		t.Errorf("want one running container, got %+v", cs)
	}
}

func TestExitedContainerRestartedWithoutPilingUp(t *testing.T) {
	h := newHarness(t)
	h.start()
	id := h.createJob("crashy", nil)
	h.deploy(id, model.GoalStart)
	first := h.waitState(id, model.StateRunning)
	if err := h.rt.Kill(first.ContainerID, 3); err != nil {
		t.Fatal(err)
	}
	var st model.TaskStatus
	h.eventually("restarted in a new container", func() bool {
		var ok bool
		st, ok = h.status(id)
		return ok && st.State == model.StateRunning && st.ContainerID != first.ContainerID
	})
	if cs := h.containers(); len(cs) != 1 || cs[0].ID != st.ContainerID {
		t.Errorf("want only the new container, got %+v", cs)
	}
	got := statesString(h.history(id))
	if got != "CREATING,STARTING,RUNNING,EXITED,CREATING,STARTING,RUNNING" {
		t.Errorf("history = %s", got)
	}
}

func TestAdoptsRunningContainersAcrossRestart(t *testing.T) {
	h := newHarness(t)
	h.start()
	id := h.createJob("sticky", nil)
	h.deploy(id, model.GoalStart)
	before := h.waitState(id, model.StateRunning)
	h.stop()
	counts := h.rt.Counts()

	h.start()
	h.waitResyncs(3)
	after := h.waitState(id, model.StateRunning)
	if after.ContainerID != before.ContainerID {
		t.Errorf("container replaced: %s -> %s", before.ContainerID, after.ContainerID)
	}
	if c := h.rt.Counts(); c != counts {
		t.Errorf("runtime touched on adoption: %+v -> %+v", counts, c)
	}
	if got := statesString(h.history(id)); got != "CREATING,STARTING,RUNNING" {
		t.Errorf("history = %s", got)
	}
}

func TestChangesWhileDownAppliedOnReturn(t *testing.T) {
	h := newHarness(t)
	h.start()
	stopMe := h.createJob("stopme", nil)
	dropMe := h.createJob("dropme", nil)
	h.deploy(stopMe, model.GoalStart)
	h.deploy(dropMe, model.GoalStart)
	h.waitState(stopMe, model.StateRunning)
	h.waitState(dropMe, model.StateRunning)
	h.stop()

	ctx := context.Background()
	if err := h.st.SetGoal(ctx, h.name, stopMe, model.GoalStop, ""); err != nil {
		t.Fatal(err)
	}
	if err := h.st.Undeploy(ctx, h.name, dropMe, ""); err != nil {
		t.Fatal(err)
	}
	newJob := h.createJob("newone", nil)
	h.deploy(newJob, model.GoalStart)

	h.start()
	h.waitState(stopMe, model.StateStopped)
	h.waitState(newJob, model.StateRunning)
	h.eventually("dropme status deleted", func() bool { _, ok := h.status(dropMe); return !ok })
	for _, c := range h.containers() {
		if c.JobID() == string(dropMe) {
			t.Errorf("undeployed job's container left: %+v", c)
		}
	}
}

func TestReapsUnwantedHeliosContainers(t *testing.T) {
	h := newHarness(t)
	h.start()
	const job = "ghost:1:0000000000000000000000000000000000000000"
	cluster := h.clusterID()
	ghost := h.rt.Add("helios-ghost", map[string]string{agent.LabelHost: h.name, agent.LabelCluster: cluster, agent.LabelJobID: job})
	other := h.rt.Add("helios-other", map[string]string{agent.LabelHost: "some-other-host", agent.LabelCluster: cluster, agent.LabelJobID: job})
	otherCluster := h.rt.Add("helios-other-cluster", map[string]string{agent.LabelHost: h.name, agent.LabelCluster: "another-cluster", agent.LabelJobID: job})
	legacy := h.rt.Add("helios-unknown-legacy", map[string]string{agent.LabelHost: h.name, agent.LabelJobID: job})
	plain := h.rt.Add("not-helios", map[string]string{"x": "y"})
	h.eventually("ghost reaped", func() bool {
		_, err := h.rt.Inspect(context.Background(), ghost)
		return errors.Is(err, agent.ErrNoSuchContainer)
	})
	for _, id := range []string{other, otherCluster, legacy, plain} {
		if _, err := h.rt.Inspect(context.Background(), id); err != nil {
			t.Errorf("container of someone else removed: %v", err)
		}
	}
}

func TestSpecChangeRecreates(t *testing.T) {
	// An agent restarted with other --env wants a different container for the same job.
	h := newHarness(t)
	h.start()
	id := h.createJob("respec", nil)
	h.deploy(id, model.GoalStart)
	before := h.waitState(id, model.StateRunning)
	h.stop()
	h.cfg = func(c *agent.Config) { c.Defaults.Env = map[string]string{"AGENT_ENV": "b"} }
	h.start()
	h.eventually("recreated", func() bool {
		st, ok := h.status(id)
		return ok && st.State == model.StateRunning && st.ContainerID != before.ContainerID
	})
	cs := h.containers()
	if len(cs) != 1 {
		t.Fatalf("containers = %+v", cs)
	}
	spec, _ := h.rt.Spec(cs[0].ID)
	if !strings.Contains(strings.Join(spec.Env, " "), "AGENT_ENV=b") {
		t.Errorf("env %v", spec.Env)
	}
}

func TestRefusesOtherIDOnLiveHost(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.st.RegisterHost(ctx, h.name, "someone-else"); err != nil {
		t.Fatal(err)
	}
	lease, err := etcdCli.Grant(ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	defer etcdCli.Revoke(ctx, lease.ID)
	if err := h.st.PutUp(ctx, h.name, store.LeaseID(lease.ID)); err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(h.config())
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = a.Run(rctx)
	if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "someone-else") {
		t.Fatalf("Run = %v, want a conflict naming both ids", err)
	}
	idb, _ := os.ReadFile(h.dir + "/id")
	if !strings.Contains(err.Error(), strings.TrimSpace(string(idb))) {
		t.Errorf("error %q does not name the agent's id %s", err, idb)
	}
}

func TestSecondAgentOnStateDirRefused(t *testing.T) {
	h := newHarness(t)
	h.start()
	a, err := agent.New(h.config())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Run(ctx); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second agent Run = %v, want state dir in use", err)
	}
}
