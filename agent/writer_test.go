package agent_test

import (
	"context"
	"sync"
	"testing"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// gatedStore holds every status write of the agent until the test opens the gate, as a
// slow etcd would.
type gatedStore struct {
	agent.Store
	gate     chan struct{}
	mu       sync.Mutex
	attempts int
}

func (g *gatedStore) SetTaskStatuses(ctx context.Context, host string, id model.JobID, sts []store.StatusAt) error {
	g.mu.Lock()
	g.attempts++
	g.mu.Unlock()
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Store.SetTaskStatuses(ctx, host, id, sts)
}

func (g *gatedStore) writesTried() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.attempts
}

// Create and start do not wait for etcd: with every status write held back the container
// is created and started all the same; once etcd answers, the history holds every state
// in order, and the task status is the last one.
func TestStartDoesNotWaitForStatusWrites(t *testing.T) {
	h := newHarness(t)
	gated := &gatedStore{Store: h.st, gate: make(chan struct{})}
	h.cfg = func(c *agent.Config) { c.Store = gated }
	h.start()
	id := h.createJob("slow-etcd", nil)
	h.deploy(id, model.GoalStart)

	h.eventually("container running while its first status write is held", func() bool {
		cs := h.containers()
		return len(cs) == 1 && cs[0].Running && gated.writesTried() >= 1
	})
	if _, ok := h.status(id); ok {
		t.Fatal("a status reached etcd through the closed gate")
	}
	close(gated.gate)
	st := h.waitState(id, model.StateRunning)
	if cs := h.containers(); st.ContainerID != cs[0].ID {
		t.Errorf("status names container %.12s, runs %.12s", st.ContainerID, cs[0].ID)
	}
	if got := statesString(h.history(id)); got != "CREATING,STARTING,RUNNING" {
		t.Errorf("history = %s, want CREATING,STARTING,RUNNING", got)
	}
	if n := gated.writesTried(); n > 2 {
		t.Errorf("%d status transactions; want the statuses queued behind the held one in one more", n)
	}
}
