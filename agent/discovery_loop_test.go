package agent_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/agent/fake"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// recordingRegistrar is a NopRegistrar that notes each call and, at each withdrawal,
// whether the task's container still ran.
type recordingRegistrar struct {
	agent.NopRegistrar
	rt *fake.Runtime

	mu    sync.Mutex
	calls []registrarCall
}

type registrarCall struct {
	op         string // publish, withdraw
	container  string
	drain      time.Duration
	running    bool // withdraw: the container was running then
	at         time.Time
	publishedN int
}

func (r *recordingRegistrar) Publish(ctx context.Context, je model.JobEndpoints) error {
	r.mu.Lock()
	r.calls = append(r.calls, registrarCall{op: "publish", container: je.ContainerID, at: time.Now(), publishedN: len(je.Endpoints)})
	r.mu.Unlock()
	return r.NopRegistrar.Publish(ctx, je)
}

func (r *recordingRegistrar) Withdraw(ctx context.Context, id model.JobID, drain time.Duration) error {
	cid := r.Published()[id]
	c, err := r.rt.Inspect(ctx, cid)
	r.mu.Lock()
	r.calls = append(r.calls, registrarCall{op: "withdraw", container: cid, drain: drain, running: err == nil && c.Running, at: time.Now()})
	r.mu.Unlock()
	return r.NopRegistrar.Withdraw(ctx, id, drain)
}

func (r *recordingRegistrar) last() (registrarCall, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		return registrarCall{}, 0
	}
	return r.calls[len(r.calls)-1], len(r.calls)
}

func discoveryHarness(t *testing.T) (*harness, *recordingRegistrar) {
	h := newHarness(t)
	reg := &recordingRegistrar{rt: h.rt}
	h.cfg = func(c *agent.Config) {
		c.Domain, c.AdvertiseAddress, c.Registrar = "example.local", "10.0.0.5", reg
	}
	return h, reg
}

func registered(j *model.Job) {
	j.Registration = map[string]model.ServicePorts{"website/tcp": {Ports: map[string]model.ServicePortParameters{"http": {}}}}
	grace := 1
	j.GracePeriod = &grace
}

func TestEndpointsPublishedWhenRunningAndWithdrawnBeforeTheStop(t *testing.T) {
	h, reg := discoveryHarness(t)
	h.start()
	id := h.createJob("site", registered)
	h.deploy(id, model.GoalStart)
	st := h.waitState(id, model.StateRunning)
	h.eventually("endpoints published", func() bool { c, _ := reg.last(); return c.op == "publish" })
	je, _ := reg.Endpoints(id)
	if je.ContainerID != st.ContainerID || len(je.Endpoints) != 1 || je.Endpoints[0].Name != "_website._tcp.example.local" ||
		je.Endpoints[0].Host != "10.0.0.5" || je.Endpoints[0].Port < 40000 {
		t.Fatalf("published %+v", je)
	}

	if err := h.st.Undeploy(context.Background(), h.name, id, ""); err != nil {
		t.Fatal(err)
	}
	h.eventually("container removed", func() bool { return len(h.containers()) == 0 })
	removed := time.Now()
	var w registrarCall
	reg.mu.Lock()
	for _, c := range reg.calls {
		if c.op == "withdraw" {
			w = c
		}
	}
	reg.mu.Unlock()
	if w.op == "" || !w.running || w.drain != time.Second || w.container != st.ContainerID {
		t.Fatalf("withdrawal %+v: want one while the container still ran, draining at most the grace period", w)
	}
	// The grace period runs between the withdrawal and the stop.
	if gap := removed.Sub(w.at); gap < time.Second {
		t.Fatalf("container removed %s after the withdrawal, before the 1s grace period ran out", gap)
	}
	if n := h.metric("helios_agent_endpoints_withdrawn_total", nil); n != 1 {
		t.Errorf("endpoints_withdrawn_total = %v, want 1", n)
	}
	if n := h.metric("helios_agent_actions_total", map[string]string{"action": "withdraw", "reason": "stopping"}); n != 1 {
		t.Errorf("actions_total{withdraw,stopping} = %v, want 1", n)
	}
}

func TestExitedContainerWithdrawnAtOnceAndAdoptedOneRepublished(t *testing.T) {
	h, reg := discoveryHarness(t)
	h.start()
	id := h.createJob("flaky", registered)
	h.deploy(id, model.GoalStart)
	st := h.waitState(id, model.StateRunning)
	h.eventually("endpoints published", func() bool { c, _ := reg.last(); return c.op == "publish" })

	if err := h.rt.Kill(st.ContainerID, 1); err != nil {
		t.Fatal(err)
	}
	h.eventually("endpoints withdrawn", func() bool {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		for _, c := range reg.calls {
			if c.op == "withdraw" && c.container == st.ContainerID {
				if c.drain != 0 || c.running {
					t.Errorf("withdrawal of an exited container %+v: want no drain", c)
				}
				return true
			}
		}
		return false
	})
	next := h.eventually2(func() (string, bool) {
		c, _ := reg.last()
		return c.container, c.op == "publish" && c.container != st.ContainerID
	})

	// A restarted agent knows nothing it published: it publishes the adopted container again.
	h.stop()
	reg2 := &recordingRegistrar{rt: h.rt}
	h.cfg = func(c *agent.Config) { c.Domain, c.AdvertiseAddress, c.Registrar = "example.local", "10.0.0.5", reg2 }
	h.start()
	h.eventually("endpoints published again after the restart", func() bool {
		c, _ := reg2.last()
		return c.op == "publish" && c.container == next
	})
}

// eventually2 waits for f to say ok and returns what it found.
func (h *harness) eventually2(f func() (string, bool)) string {
	h.t.Helper()
	var v string
	h.eventually("condition", func() bool {
		var ok bool
		v, ok = f()
		return ok
	})
	return v
}

// unreachableRegistrar cannot withdraw: etcd is away.
type unreachableRegistrar struct{ agent.NopRegistrar }

func (r *unreachableRegistrar) Withdraw(context.Context, model.JobID, time.Duration) error {
	return fmt.Errorf("delete endpoints: %w", store.ErrUnavailable)
}

func TestExitedContainerRestartedWhenEndpointsCannotBeWithdrawn(t *testing.T) {
	h := newHarness(t)
	reg := &unreachableRegistrar{}
	h.cfg = func(c *agent.Config) { c.Domain, c.AdvertiseAddress, c.Registrar = "example.local", "10.0.0.5", reg }
	h.start()
	id := h.createJob("stuck", registered)
	h.deploy(id, model.GoalStart)
	st := h.waitState(id, model.StateRunning)
	h.eventually("endpoints published", func() bool { _, ok := reg.Endpoints(id); return ok })
	if err := h.rt.Kill(st.ContainerID, 1); err != nil {
		t.Fatal(err)
	}
	h.eventually("a new container RUNNING and published", func() bool {
		s, ok := h.status(id)
		je, _ := reg.Endpoints(id)
		return ok && s.State == model.StateRunning && s.ContainerID != st.ContainerID && je.ContainerID == s.ContainerID
	})
}
