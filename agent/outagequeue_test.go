package agent_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/model"
)

// queuedStates reads the outage queue kept in the state dir: the states queued for job, in
// order (nil when there is no queue).
func queuedStates(t *testing.T, dir string, job model.JobID) []model.State {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "pending.json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var disk struct {
		Ops []struct {
			Job    model.JobID      `json:"job"`
			Status model.TaskStatus `json:"status"`
		} `json:"ops"`
	}
	if err := json.Unmarshal(b, &disk); err != nil {
		t.Fatalf("pending.json: %v", err)
	}
	var out []model.State
	for _, op := range disk.Ops {
		if op.Job == job {
			out = append(out, op.Status.State)
		}
	}
	return out
}

// TestAgentKilledDuringEtcdOutageLosesNoQueuedStatus stops an agent abruptly while etcd is
// down and a container it restarted has its statuses queued: the next agent on the same
// state dir, started while etcd is still down, writes them once etcd is back, each once
// and in order. A queue replayed although already written (an agent that died after the
// write, before noting it) adds nothing to the history.
func TestAgentKilledDuringEtcdOutageLosesNoQueuedStatus(t *testing.T) {
	ctx := context.Background()
	h, e, restartEtcd := outageHarness(t)
	h.cfg = restartableDuringOutage
	// Stopping does not flush: etcd is down, as when the agent is killed.
	run := func() (stop func()) { return h.runAgent(ctx) }
	stop := run()
	h.waitRegistered()
	crash := h.createJob("crash", nil)
	h.deploy(crash, model.GoalStart)
	crashed := h.waitState(crash, model.StateRunning)
	h.eventually("the first run's history written", func() bool {
		return statesString(h.history(crash)) == "CREATING,STARTING,RUNNING"
	})

	e.Close()
	if err := h.rt.Kill(crashed.ContainerID, 9); err != nil {
		t.Fatal(err)
	}
	const queued = "EXITED,CREATING,STARTING,RUNNING"
	h.eventually("the restart's statuses queued in the state dir", func() bool {
		return statesString(queuedStates(t, h.dir, crash)) == queued
	})
	var restarted agent.Container
	for _, c := range h.containers() {
		if c.JobID() == string(crash) && c.Running {
			restarted = c
		}
	}
	stop()
	kept, err := os.ReadFile(filepath.Join(h.dir, "pending.json"))
	if err != nil {
		t.Fatal(err)
	}

	passes := h.metric("helios_agent_reconcile_total", map[string]string{"result": "ok"})
	stop = run()
	h.eventually("the new agent reconciling without etcd", func() bool {
		return h.metric("helios_agent_reconcile_total", map[string]string{"result": "ok"}) > passes
	})
	restartEtcd()
	h.eventually("the queue written to etcd", func() bool {
		sts, err := h.st.TaskStatuses(ctx, h.name)
		return err == nil && sts[crash].ContainerID == restarted.ID && sts[crash].State == model.StateRunning &&
			queuedStates(t, h.dir, crash) == nil
	})
	want := "CREATING,STARTING,RUNNING," + queued
	if got := statesString(h.history(crash)); got != want {
		t.Fatalf("history after the outage = %s, want %s", got, want)
	}
	stop()

	// As if the agent had died after writing the queue but before removing it from disk.
	if err := os.WriteFile(filepath.Join(h.dir, "pending.json"), kept, 0o600); err != nil {
		t.Fatal(err)
	}
	stop = run()
	defer func() { stop() }()
	h.eventually("the replayed queue done", func() bool { return queuedStates(t, h.dir, crash) == nil })
	if got := statesString(h.history(crash)); got != want {
		t.Errorf("history after a replay = %s, want %s (no event twice)", got, want)
	}
}
