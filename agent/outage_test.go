package agent_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"go.uber.org/zap"
)

// outageHarness is a harness on an etcd of its own, which the test can stop (e.Close) and
// start again on the same data dir and URLs (restart).
func outageHarness(t *testing.T) (h *harness, e *store.Embedded, restart func()) {
	t.Helper()
	ports := freePorts(t, 2)
	cfg := store.EmbedConfig{
		Name: "outage", DataDir: t.TempDir(), UnsafeNoFsync: true, Logger: zap.NewNop(),
		ClientURL: fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
	}
	e, err := store.StartEmbedded(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	current := e
	t.Cleanup(func() { current.Close() })
	h = newHarness(t)
	h.st = storetest.Open(t, e, store.Config{Prefix: testRoot, RequestTimeout: time.Second})
	restart = func() {
		if current, err = store.StartEmbedded(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	return h, e, restart
}

// TestEtcdOutage stops etcd under a running agent: its containers keep running, a killed
// one is restarted meanwhile, and the statuses written during the outage reach etcd, with
// their history, once it is back.
func TestEtcdOutage(t *testing.T) {
	ctx := context.Background()
	h, e, restartEtcd := outageHarness(t)
	h.cfg = func(c *agent.Config) {
		c.KeepUp = nil // the lease is another test's subject; it would only slow this one down
		c.ResyncInterval = 200 * time.Millisecond
	}
	a, err := agent.New(h.config())
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(actx) }()
	defer func() {
		cancel()
		<-done
	}()
	h.waitRegistered()

	keep := h.createJob("keep", nil)
	crash := h.createJob("crash", nil)
	h.deploy(keep, model.GoalStart)
	h.deploy(crash, model.GoalStart)
	kept := h.waitState(keep, model.StateRunning)
	crashed := h.waitState(crash, model.StateRunning)
	// The state dir is written off the critical path, soon after the deployments land.
	h.eventually("both deployments kept in the state dir", func() bool {
		b, err := os.ReadFile(filepath.Join(h.dir, "deployments.json"))
		return err == nil && strings.Contains(string(b), string(keep)) && strings.Contains(string(b), string(crash))
	})
	before := h.rt.Counts()

	e.Close()
	if err := h.rt.Kill(crashed.ContainerID, 9); err != nil {
		t.Fatal(err)
	}
	var restarted agent.Container
	h.eventually("killed container restarted without etcd", func() bool {
		for _, c := range h.containers() {
			if c.JobID() == string(crash) && c.Running && c.ID != crashed.ContainerID {
				restarted = c
				return true
			}
		}
		return false
	})
	// A few more passes without etcd (resyncs are slow now: their etcd calls time out).
	passes := h.metric("helios_agent_reconcile_total", map[string]string{"result": "ok"}) + 3
	h.eventually("3 more passes", func() bool {
		return h.metric("helios_agent_reconcile_total", map[string]string{"result": "ok"}) >= passes
	})
	for _, c := range h.containers() {
		if c.JobID() == string(keep) && (c.ID != kept.ContainerID || !c.Running) {
			t.Errorf("container of the untouched job changed during the outage: %+v", c)
		}
	}
	if c := h.rt.Counts(); c.Creates != before.Creates+1 {
		t.Errorf("creates %d -> %d, want exactly one (the killed container's replacement)", before.Creates, c.Creates)
	}

	restartEtcd()
	// The client reconnects by itself; reads fail until it has.
	h.eventually("status of the restarted container in etcd", func() bool {
		sts, err := h.st.TaskStatuses(ctx, h.name)
		st := sts[crash]
		return err == nil && st.State == model.StateRunning && st.ContainerID == restarted.ID
	})
	if got := statesString(h.history(crash)); got != "CREATING,STARTING,RUNNING,EXITED,CREATING,STARTING,RUNNING" {
		t.Errorf("history after the outage = %s", got)
	}
	if st, _ := h.status(keep); st.ContainerID != kept.ContainerID || st.State != model.StateRunning {
		t.Errorf("untouched job's status %+v", st)
	}
}

// TestAgentStartsDuringEtcdOutage restarts the agent while etcd is down: it manages its
// containers from the deployments kept in the state dir (a killed one is restarted, the
// others adopted untouched) and joins etcd once it is back.
func TestAgentStartsDuringEtcdOutage(t *testing.T) {
	ctx := context.Background()
	h, e, restartEtcd := outageHarness(t)
	h.cfg = restartableDuringOutage
	run := func() (stop func()) { return h.runAgent(ctx) }
	stop := run()
	h.waitRegistered()
	keep := h.createJob("keep", nil)
	crash := h.createJob("crash", nil)
	h.deploy(keep, model.GoalStart)
	h.deploy(crash, model.GoalStart)
	kept := h.waitState(keep, model.StateRunning)
	crashed := h.waitState(crash, model.StateRunning)
	stop()

	e.Close()
	if err := h.rt.Kill(crashed.ContainerID, 9); err != nil {
		t.Fatal(err)
	}
	stop = run()
	defer func() { stop() }()
	var restarted agent.Container
	h.eventually("killed container restarted by an agent that started without etcd", func() bool {
		for _, c := range h.containers() {
			if c.JobID() == string(crash) && c.Running && c.ID != crashed.ContainerID {
				restarted = c
				return true
			}
		}
		return false
	})
	for _, c := range h.containers() {
		if c.JobID() == string(keep) && (c.ID != kept.ContainerID || !c.Running) {
			t.Errorf("container of the untouched job changed: %+v", c)
		}
	}

	restartEtcd()
	h.eventually("the agent joined and reported the restarted container", func() bool {
		sts, err := h.st.TaskStatuses(ctx, h.name)
		st := sts[crash]
		return err == nil && st.State == model.StateRunning && st.ContainerID == restarted.ID
	})
	if st, _ := h.status(keep); st.ContainerID != kept.ContainerID || st.State != model.StateRunning {
		t.Errorf("untouched job's status %+v", st)
	}
}

// restartableDuringOutage configures agents that the test starts and stops itself while
// etcd is down: no up key, quick resyncs, a short wait for etcd at start.
func restartableDuringOutage(c *agent.Config) {
	c.KeepUp = nil
	c.ResyncInterval = 200 * time.Millisecond
	c.StartupJoinWait = 300 * time.Millisecond
}

// runAgent runs an agent of h's configuration until the returned stop is called.
func (h *harness) runAgent(ctx context.Context) (stop func()) {
	h.t.Helper()
	a, err := agent.New(h.config())
	if err != nil {
		h.t.Fatal(err)
	}
	actx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(actx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("agent stopped with %v", err)
		}
	}
}
