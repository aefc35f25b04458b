package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestContainerListedDuringItsCreateIsKept replays, deterministically, the container that
// "vanished" in test/e2e's TestEtcdOutageOf30Seconds: during an etcd outage a killed
// container is replaced, and the replacement's create is held halfway, listed but not found
// by id, as Docker 20.10 shows a container being created (fake/hold.go), while the agent
// makes passes over everything. Listed so, it looks like a container that exited at once:
// a pass that planned for it would replace it (restart-exited). It is the job's own worker
// creating it, so the agent must leave it alone: afterwards it runs with the id its create
// returned and is the one reported, and the only removal is the killed container's, logged
// once with its reason.
func TestContainerListedDuringItsCreateIsKept(t *testing.T) {
	ctx := context.Background()
	h, e, restartEtcd := outageHarness(t)
	core, logs := observer.New(zapcore.InfoLevel)
	h.cfg = func(c *agent.Config) {
		restartableDuringOutage(c)
		c.Logger = zap.New(core)
	}
	stop := h.runAgent(ctx)
	defer func() { stop() }()
	h.waitRegistered()
	crash := h.createJob("crash", nil)
	h.deploy(crash, model.GoalStart)
	killed := h.waitState(crash, model.StateRunning).ContainerID
	before := h.rt.Counts()

	e.Close()
	held, release := h.rt.HoldCreates()
	defer release()
	if err := h.rt.Kill(killed, 9); err != nil {
		t.Fatal(err)
	}
	var replacement string
	select {
	case replacement = <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("timed out waiting for the killed container's replacement to be created")
	}
	listed := false
	for _, c := range h.containers() {
		listed = listed || (c.ID == replacement && !c.Running)
	}
	if !listed {
		t.Fatalf("the held replacement %s is not listed, created and not running: the fake does not hold it as Docker does", replacement)
	}
	passes := func() float64 {
		return h.metric("helios_agent_reconcile_total", map[string]string{"result": "ok"})
	}
	// Passes over everything come with each resync (200 ms), each listing the held container.
	target := passes() + 5
	h.eventually("5 passes while the replacement's create is held", func() bool { return passes() >= target })
	release()

	h.eventually("the replacement running", func() bool {
		for _, c := range h.containers() {
			if c.ID == replacement && c.Running {
				return true
			}
		}
		return false
	})
	target = passes() + 3
	h.eventually("3 more passes", func() bool { return passes() >= target })
	var ids []string
	for _, c := range h.containers() {
		if c.JobID() == string(crash) {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) != 1 || ids[0] != replacement {
		t.Errorf("containers of the job = %v, want only the replacement %s", ids, replacement)
	}
	if c := h.rt.Counts(); c.Creates != before.Creates+1 || c.Removes != before.Removes+1 {
		t.Errorf("creates %d -> %d, removes %d -> %d; want one of each (the killed container replaced once)",
			before.Creates, c.Creates, before.Removes, c.Removes)
	}
	removed := logs.FilterMessage("container removed").All()
	if len(removed) != 1 || removed[0].ContextMap()["container-id"] != killed[:12] || removed[0].ContextMap()["reason"] != "restart-exited" {
		var got []map[string]any
		for _, r := range removed {
			got = append(got, r.ContextMap())
		}
		t.Errorf(`"container removed" logged %v, want once, for %s with reason restart-exited`, got, killed[:12])
	}

	restartEtcd()
	h.eventually("the replacement reported RUNNING once etcd is back", func() bool {
		sts, err := h.st.TaskStatuses(ctx, h.name) // fails until the client has reconnected
		st := sts[crash]
		return err == nil && st.State == model.StateRunning && st.ContainerID == replacement
	})
}
