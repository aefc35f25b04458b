package store_test

import (
	"errors"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// TestEveryHostWriteMovesItsGeneration: registration does not (the agent's etcd role may
// write the id alone); deploy, set-goal and undeploy each put the host's
// generation in their own transaction, so its ModRevision grows with the desired state;
// accepting a restore moves it too; deregistration removes it with the rest of the host.
func TestEveryHostWriteMovesItsGeneration(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	job := newJob(t, "web", "tok")
	mustNil(t, "create", s.CreateJob(ctx, job))

	g, err := s.HostGeneration(ctx, "h1")
	mustNil(t, "generation before registration", err)
	if g.Registered || g.ModRevision != 0 {
		t.Fatalf("unregistered host has generation %+v", g)
	}
	mustNil(t, "register", s.RegisterHost(ctx, "h1", "id1"))
	if g, _ := s.HostGeneration(ctx, "h1"); !g.Registered || g.ModRevision != 0 {
		t.Fatalf("registration, no desired state, gave generation %+v", g)
	}
	last := int64(0)
	step := func(what string) {
		t.Helper()
		g, err := s.HostGeneration(ctx, "h1")
		mustNil(t, what, err)
		if rev := revision(t, cli); g.ModRevision != rev || !g.Registered {
			t.Fatalf("after %s the generation is at revision %d (registered %v), want the write's revision %d", what, g.ModRevision, g.Registered, rev)
		}
		if g.ModRevision <= last {
			t.Fatalf("after %s the generation went from %d to %d", what, last, g.ModRevision)
		}
		last = g.ModRevision
	}
	mustNil(t, "deploy", s.Deploy(ctx, "h1", model.Deployment{JobID: job.ID}, "tok"))
	step("deploy")
	mustNil(t, "set goal", s.SetGoal(ctx, "h1", job.ID, model.GoalStop, "tok"))
	step("set-goal")
	mustNil(t, "undeploy", s.Undeploy(ctx, "h1", job.ID, "tok"))
	step("undeploy")
	_, err = s.AcceptRestore(ctx, "h1")
	mustNil(t, "accept restore", err)
	step("accept-restore")
	if g, _ := s.HostGeneration(ctx, "h1"); g.Accepted != last {
		t.Errorf("accept-restore left restore-accepted at %d, want %d", g.Accepted, last)
	}
	mustNil(t, "deploy again", s.Deploy(ctx, "h1", model.Deployment{JobID: job.ID}, "tok"))
	if g, _ := s.HostGeneration(ctx, "h1"); g.Accepted == g.ModRevision {
		t.Errorf("a deploy moved restore-accepted: %+v", g)
	}
	step("deploy again")

	// A write elsewhere leaves it alone.
	mustNil(t, "create other", s.CreateJob(ctx, newJob(t, "other", "tok")))
	if g, _ := s.HostGeneration(ctx, "h1"); g.ModRevision != last {
		t.Errorf("creating a job moved h1's generation from %d to %d", last, g.ModRevision)
	}

	mustNil(t, "deregister", s.DeregisterHost(ctx, "h1", true))
	if g, _ := s.HostGeneration(ctx, "h1"); g.Registered || g.ModRevision != 0 {
		t.Errorf("deregistered host has generation %+v", g)
	}
}

func TestAcceptRestoreOfUnknownHostWritesNothing(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	before := revision(t, cli)
	if _, err := s.AcceptRestore(ctx, "nope"); !errors.Is(err, store.ErrHostNotFound) {
		t.Errorf("accept-restore of an unknown host: %v, want ErrHostNotFound", err)
	}
	if _, err := s.AcceptRestore(ctx, "bad/name"); err == nil {
		t.Error("accept-restore of an invalid host name succeeded")
	}
	if after := revision(t, cli); after != before {
		t.Errorf("refused accept-restore wrote: revision %d -> %d", before, after)
	}
}
