package store_test

import (
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

func TestSetTaskStatusesOnceDoesNotWriteAnEventTwice(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	id := newJob(t, "replay", "").ID
	at := time.Now()
	mustNil(t, "register h1", s.RegisterHost(ctx, "h1", "id-h1")) // History reads registered hosts
	first := []store.StatusAt{
		{Status: model.TaskStatus{State: model.StateExited, ContainerID: "c1"}, At: at},
		{Status: model.TaskStatus{State: model.StateCreating}, At: at.Add(time.Microsecond)},
	}
	rest := []store.StatusAt{
		{Status: model.TaskStatus{State: model.StateStarting, ContainerID: "c2"}, At: at.Add(2 * time.Microsecond)},
		{Status: model.TaskStatus{State: model.StateRunning, ContainerID: "c2"}, At: at.Add(3 * time.Microsecond)},
	}
	mustNil(t, "first write", s.SetTaskStatuses(ctx, "h1", id, first))
	// Replayed: the first two are in etcd (the agent died before noting it), the rest not.
	mustNil(t, "replay", s.SetTaskStatusesOnce(ctx, "h1", id, append(append([]store.StatusAt(nil), first...), rest...)))
	// Replayed again after the whole queue was written: nothing changes.
	mustNil(t, "second replay", s.SetTaskStatusesOnce(ctx, "h1", id, append(append([]store.StatusAt(nil), first...), rest...)))

	events, err := s.History(ctx, id)
	mustNil(t, "history", err)
	var got []string
	for _, ev := range events {
		got = append(got, string(ev.Status.State))
	}
	if want := "EXITED CREATING STARTING RUNNING"; join(got) != want {
		t.Errorf("history %q, want %q", join(got), want)
	}
	if n := len(keysUnder(t, cli, s.Keys().HostHistory(id, "h1"))); n != 4 {
		t.Errorf("%d events, want 4", n)
	}
	sts, err := s.TaskStatuses(ctx, "h1")
	mustNil(t, "task statuses", err)
	if sts[id].State != model.StateRunning || sts[id].ContainerID != "c2" {
		t.Errorf("task status %+v, want the last one replayed", sts[id])
	}
	wantErr(t, "bad host", s.SetTaskStatusesOnce(ctx, "a/b", id, rest), store.ErrInvalidName)
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
