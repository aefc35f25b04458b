package agent_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/agent/fake"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// TestAgentsOfTwoClustersShareAnEngineAndAHostName runs two agents on one fake engine with
// the same --name but each in its own cluster (its own key root, so its own cluster id), as
// two helios-solo side by side do. Each deploys a job of its own and one job both deploy
// (same job id). Neither may reap, adopt or replace the other's containers.
func TestAgentsOfTwoClustersShareAnEngineAndAHostName(t *testing.T) {
	rt := fake.New()
	name := fmt.Sprintf("shared%d", hostSeq.Add(1))
	regs := map[*harness]*prometheus.Registry{}
	var hs []*harness
	for i, root := range []string{testRoot + "-a", testRoot + "-b"} {
		h := newHarness(t)
		h.st = storetest.OpenEndpoints(t, etcdCli.Endpoints(), store.Config{Prefix: root})
		h.rt, h.name = rt, name
		reg := prometheus.NewRegistry()
		regs[h] = reg
		ports := agent.PortRange{Start: 42000 + 100*i, End: 42100 + 100*i}
		h.cfg = func(c *agent.Config) { c.Registerer, c.PortRange = reg, ports }
		hs = append(hs, h)
	}

	want := map[*harness]map[model.JobID]string{} // each agent's jobs and their container ids
	for i, h := range hs {
		h.start()
		shared := h.createJob("shared", nil)
		own := h.createJob(fmt.Sprintf("own%d", i), nil)
		h.deploy(shared, model.GoalStart)
		h.deploy(own, model.GoalStart)
		want[h] = map[model.JobID]string{}
		for _, id := range []model.JobID{shared, own} {
			want[h][id] = h.waitState(id, model.StateRunning).ContainerID
		}
	}

	// A "nothing happened" check waits for a positive marker: several full passes of both
	// agents after both have their containers.
	resyncs := func(h *harness) float64 { return counter(t, regs[h], "helios_agent_reconcile_total", "ok") }
	start := map[*harness]float64{}
	for _, h := range hs {
		start[h] = resyncs(h)
	}
	for _, h := range hs {
		h.eventually("ten more passes", func() bool { return resyncs(h) >= start[h]+10 })
	}

	if c := rt.Counts(); c.Removes != 0 || c.Stops != 0 || c.Creates != 4 {
		t.Errorf("runtime counts %+v, want 4 creates and no stop or remove", c)
	}
	for i, h := range hs {
		for id, cid := range want[h] {
			st, ok := h.status(id)
			if !ok || st.State != model.StateRunning || st.ContainerID != cid {
				t.Errorf("agent %d, job %s: status %s in %s (present %v), want RUNNING in %s", i, id.Name(), st.State, st.ContainerID, ok, cid)
			}
			if _, err := rt.Inspect(context.Background(), cid); err != nil {
				t.Errorf("agent %d, job %s: container %s gone: %v", i, id.Name(), cid, err)
			}
		}
	}
}

// TestLegacyContainersAdoptedOnlyWhenKnown upgrades an agent from a version without the
// cluster label: its container without the label, named by the host's task status in etcd,
// is adopted (same id, nothing created or removed) and recorded in the state dir, which alone
// keeps it the agent's once etcd forgets the status. A container without the label that
// neither names is someone else's: left alone, never reaped.
func TestLegacyContainersAdoptedOnlyWhenKnown(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	var reg *prometheus.Registry
	h.cfg = func(c *agent.Config) { c.Registerer = reg }
	run := func() {
		reg = prometheus.NewRegistry()
		h.start()
	}
	passes := func(n float64) {
		t.Helper()
		h.eventually(fmt.Sprintf("%v passes", n), func() bool { return counter(t, reg, "helios_agent_reconcile_total", "ok") >= n })
	}

	run()
	id := h.createJob("legacy", nil)
	h.deploy(id, model.GoalStart)
	made := h.waitState(id, model.StateRunning)
	h.stop()

	// What the previous version left: the same container without the cluster label, a state
	// dir without the new files (only the host id), and the status naming the container.
	c, err := h.rt.Inspect(ctx, made.ContainerID)
	if err != nil {
		t.Fatal(err)
	}
	labels := maps.Clone(c.Labels)
	delete(labels, agent.LabelCluster)
	legacy := h.rt.Add(c.Name, labels)
	if err := h.rt.Remove(ctx, made.ContainerID); err != nil {
		t.Fatal(err)
	}
	stray := h.rt.Add("helios-stray", map[string]string{agent.LabelHost: h.name, agent.LabelJobID: "stray:1:0000000000000000000000000000000000000000"})
	hostID, err := os.ReadFile(filepath.Join(h.dir, "id"))
	if err != nil {
		t.Fatal(err)
	}
	h.dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(h.dir, "id"), hostID, 0o644); err != nil {
		t.Fatal(err)
	}
	made.ContainerID = legacy
	if err := h.st.SetTaskStatus(ctx, h.name, id, made, false); err != nil {
		t.Fatal(err)
	}
	before := h.rt.Counts()

	run()
	passes(10)
	if st, ok := h.status(id); !ok || st.State != model.StateRunning || st.ContainerID != legacy {
		t.Errorf("after the upgrade: status %+v (present %v), want RUNNING in the legacy container %s", st, ok, legacy)
	}
	h.stop()

	// etcd forgets the status (restored from an older backup): the record still knows.
	if err := h.st.DeleteTaskStatus(ctx, h.name, id); err != nil {
		t.Fatal(err)
	}
	run()
	h.waitState(id, model.StateRunning)
	passes(5)
	if st, ok := h.status(id); !ok || st.ContainerID != legacy {
		t.Errorf("with the status gone: status %+v (present %v), want RUNNING in the legacy container %s", st, ok, legacy)
	}
	if c := h.rt.Counts(); c != before {
		t.Errorf("runtime counts %+v -> %+v, want nothing created, stopped or removed", before, c)
	}
	for _, cid := range []string{legacy, stray} {
		if _, err := h.rt.Inspect(ctx, cid); err != nil {
			t.Errorf("container %s gone: %v", cid, err)
		}
	}
}
