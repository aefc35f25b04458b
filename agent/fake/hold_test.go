package fake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/agent/fake"
)

// TestHoldCreates: a held Create's container is listed, created and never started, but not
// found by id until released, as Docker 20.10 shows a container being created; released,
// Create returns that id and the container is an ordinary one. A Create whose context ends
// while held fails and leaves nothing.
func TestHoldCreates(t *testing.T) {
	ctx := context.Background()
	rt := fake.New()
	spec := agent.ContainerSpec{Name: "held", Image: "img", Labels: map[string]string{"k": "v"}}
	held, release := rt.HoldCreates()
	type result struct {
		id  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		id, err := rt.Create(ctx, spec)
		done <- result{id, err}
	}()
	var id string
	select {
	case id = <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the Create to be held")
	}
	cs, err := rt.List(ctx, map[string]string{"k": "v"})
	if err != nil || len(cs) != 1 || cs[0].ID != id || cs[0].Running || !cs[0].FinishedAt.IsZero() {
		t.Fatalf("List while held = %+v, %v; want %s, created and never started", cs, err, id)
	}
	if _, err := rt.Inspect(ctx, id); !errors.Is(err, agent.ErrNoSuchContainer) {
		t.Errorf("Inspect while held: %v, want ErrNoSuchContainer", err)
	}
	if err := rt.Start(ctx, id); !errors.Is(err, agent.ErrNoSuchContainer) {
		t.Errorf("Start while held: %v, want ErrNoSuchContainer", err)
	}
	if err := rt.Remove(ctx, id); err != nil || rt.Counts().Removes != 0 {
		t.Errorf("Remove while held: %v, %d removes; want nothing removed", err, rt.Counts().Removes)
	}
	release()
	r := <-done
	if r.err != nil || r.id != id {
		t.Fatalf("Create = %q, %v; want %s", r.id, r.err, id)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if c, err := rt.Inspect(ctx, id); err != nil || !c.Running {
		t.Errorf("Inspect after release = %+v, %v; want running", c, err)
	}
	if got := rt.Counts(); got.Creates != 1 || got.Starts != 1 {
		t.Errorf("counts %+v, want one create and one start", got)
	}

	// Only the next Create is held; one whose context ends while held fails.
	if _, err := rt.Create(ctx, agent.ContainerSpec{Name: "free", Image: "img"}); err != nil {
		t.Fatalf("a Create after the held one: %v", err)
	}
	held, release = rt.HoldCreates()
	defer release()
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		id, err := rt.Create(cctx, agent.ContainerSpec{Name: "cancelled", Image: "img", Labels: map[string]string{"k": "c"}})
		done <- result{id, err}
	}()
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the second Create to be held")
	}
	cancel()
	if r := <-done; r.err == nil {
		t.Errorf("Create cancelled while held returned %q, want an error", r.id)
	}
	if cs, _ := rt.List(ctx, map[string]string{"k": "c"}); len(cs) != 0 {
		t.Errorf("a cancelled held Create left %+v", cs)
	}
}
