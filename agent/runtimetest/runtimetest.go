package runtimetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
)

// Target is one Runtime under test.
type Target struct {
	Runtime agent.Runtime
	// Image is present locally and runs until stopped with Cmd (nil: its default command).
	Image string
	Cmd   []string
	// Labels go on every container the suite creates (e.g. a test-run label for cleanup);
	// Name prefixes their names, unique per run.
	Labels map[string]string
	Name   string
	// AbsentImage is not present locally (and is never pulled by the suite).
	AbsentImage string
}

// Run runs the contract against t.Runtime. Every container it creates it removes.
func Run(t *testing.T, tg Target) {
	ctx := context.Background()
	seq := 0
	create := func(t *testing.T, labels map[string]string) string {
		t.Helper()
		seq++
		l := maps.Clone(tg.Labels)
		if l == nil {
			l = map[string]string{}
		}
		maps.Copy(l, labels)
		id, err := tg.Runtime.Create(ctx, agent.ContainerSpec{
			Name: fmt.Sprintf("%s-%d", tg.Name, seq), Image: tg.Image, Cmd: tg.Cmd, Labels: l, Init: true,
		})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		t.Cleanup(func() { _ = tg.Runtime.Remove(ctx, id) })
		return id
	}
	inspect := func(t *testing.T, id string) agent.Container {
		t.Helper()
		c, err := tg.Runtime.Inspect(ctx, id)
		if err != nil {
			t.Fatalf("Inspect %s: %v", id, err)
		}
		return c
	}

	t.Run("CreatedContainerIsListedNotRunning", func(t *testing.T) {
		id := create(t, map[string]string{"contract": "created"})
		cs, err := tg.Runtime.List(ctx, merge(tg.Labels, map[string]string{"contract": "created"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].ID != id || cs[0].Running {
			t.Fatalf("List = %+v, want the one created container, not running", cs)
		}
		if cs[0].Labels["contract"] != "created" {
			t.Errorf("labels %v lack the spec's", cs[0].Labels)
		}
	})

	t.Run("ListFiltersByEveryLabel", func(t *testing.T) {
		a := create(t, map[string]string{"contract": "filter", "side": "a"})
		create(t, map[string]string{"contract": "filter", "side": "b"})
		cs, err := tg.Runtime.List(ctx, merge(tg.Labels, map[string]string{"contract": "filter", "side": "a"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].ID != a {
			t.Fatalf("List side=a = %+v, want only %s", cs, a)
		}
		cs, _ = tg.Runtime.List(ctx, merge(tg.Labels, map[string]string{"contract": "filter"}))
		if len(cs) != 2 {
			t.Fatalf("List contract=filter found %d containers, want 2", len(cs))
		}
	})

	t.Run("StartRunsAndStopEndsIt", func(t *testing.T) {
		id := create(t, map[string]string{"contract": "start"})
		if err := tg.Runtime.Start(ctx, id); err != nil {
			t.Fatalf("Start: %v", err)
		}
		c := inspect(t, id)
		if !c.Running || c.StartedAt.IsZero() {
			t.Fatalf("after Start: running %v started %v", c.Running, c.StartedAt)
		}
		waited := make(chan error, 1)
		go func() {
			_, err := tg.Runtime.Wait(ctx, id)
			waited <- err
		}()
		if err := tg.Runtime.Stop(ctx, id, time.Second); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		select {
		case err := <-waited:
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Wait did not return after Stop")
		}
		c = inspect(t, id)
		if c.Running || c.FinishedAt.IsZero() {
			t.Errorf("after Stop: running %v finished %v", c.Running, c.FinishedAt)
		}
		if err := tg.Runtime.Stop(ctx, id, time.Second); err != nil {
			t.Errorf("Stop of a stopped container: %v, want no error", err)
		}
		if _, err := tg.Runtime.Wait(ctx, id); err != nil {
			t.Errorf("Wait on a stopped container: %v, want at once and no error", err)
		}
	})

	t.Run("RemoveIsIdempotentAndInspectSaysGone", func(t *testing.T) {
		id := create(t, map[string]string{"contract": "remove"})
		if err := tg.Runtime.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := tg.Runtime.Remove(ctx, id); err != nil {
			t.Fatalf("Remove of a running container: %v", err)
		}
		if err := tg.Runtime.Remove(ctx, id); err != nil {
			t.Errorf("Remove of a removed container: %v, want no error", err)
		}
		if _, err := tg.Runtime.Inspect(ctx, id); !errors.Is(err, agent.ErrNoSuchContainer) {
			t.Errorf("Inspect of a removed container: %v, want ErrNoSuchContainer", err)
		}
		cs, _ := tg.Runtime.List(ctx, merge(tg.Labels, map[string]string{"contract": "remove"}))
		if len(cs) != 0 {
			t.Errorf("List after Remove = %+v", cs)
		}
	})

	t.Run("UnknownContainerIsErrNoSuchContainer", func(t *testing.T) {
		const id = "0000000000000000000000000000000000000000000000000000000000000000"
		if _, err := tg.Runtime.Inspect(ctx, id); !errors.Is(err, agent.ErrNoSuchContainer) {
			t.Errorf("Inspect: %v, want ErrNoSuchContainer", err)
		}
		if err := tg.Runtime.Remove(ctx, id); err != nil {
			t.Errorf("Remove: %v, want no error", err)
		}
	})

	t.Run("EventsReportStartDieDestroyOfMatchingContainers", func(t *testing.T) {
		ectx, cancel := context.WithCancel(ctx)
		defer cancel()
		evs, errs := tg.Runtime.Events(ectx, merge(tg.Labels, map[string]string{"contract": "events", "side": "a"}))
		other := create(t, map[string]string{"contract": "events", "side": "b"})
		id := create(t, map[string]string{"contract": "events", "side": "a"})
		if err := tg.Runtime.Start(ctx, other); err != nil {
			t.Fatal(err)
		}
		if err := tg.Runtime.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := tg.Runtime.Stop(ctx, id, time.Second); err != nil {
			t.Fatal(err)
		}
		if err := tg.Runtime.Remove(ctx, id); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, want := range []string{agent.EventStart, agent.EventDie, agent.EventDestroy} {
			select {
			case ev := <-evs:
				if ev.ID != other && ev.ID != id {
					t.Fatalf("event %+v of a container the suite did not create", ev)
				}
				if ev.ID == other {
					t.Fatalf("event %s of the container labelled side=b, which the filter excludes", ev.Action)
				}
				if ev.Action != want || ev.Labels["contract"] != "events" {
					t.Fatalf("events so far %v, then %s with labels %v; want %s with the container's labels", got, ev.Action, ev.Labels, want)
				}
				got = append(got, ev.Action)
			case err := <-errs:
				t.Fatalf("events stream ended after %v: %v", got, err)
			case <-time.After(30 * time.Second):
				t.Fatalf("events so far %v; no %s within 30 s", got, want)
			}
		}
		cancel()
		select {
		case err := <-errs:
			if err == nil {
				t.Error("stream ended by its context reported no error")
			}
		case <-time.After(30 * time.Second):
			t.Error("stream did not end within 30 s of its context")
		}
	})

	t.Run("CreateOfAnAbsentImageIsErrNoSuchImage", func(t *testing.T) {
		if ok, err := tg.Runtime.HasImage(ctx, tg.AbsentImage); err != nil || ok {
			t.Fatalf("HasImage(%s) = %v, %v; want false", tg.AbsentImage, ok, err)
		}
		id, err := tg.Runtime.Create(ctx, agent.ContainerSpec{
			Name: tg.Name + "-absent", Image: tg.AbsentImage, Labels: tg.Labels,
		})
		if err == nil {
			_ = tg.Runtime.Remove(ctx, id)
			t.Fatalf("Create of absent image %s made container %s", tg.AbsentImage, id)
		}
		if !errors.Is(err, agent.ErrNoSuchImage) {
			t.Errorf("Create of absent image %s: %v, want ErrNoSuchImage", tg.AbsentImage, err)
		}
	})

	t.Run("ImageOfTheSuiteIsPresent", func(t *testing.T) {
		ok, err := tg.Runtime.HasImage(ctx, tg.Image)
		if err != nil || !ok {
			t.Errorf("HasImage(%s) = %v, %v; want true", tg.Image, ok, err)
		}
	})
}

func merge(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}
