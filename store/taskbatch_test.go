package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

func TestSetTaskStatusesWritesEveryEventInOrderThenTrimOnDemand(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{HistoryLimit: 4})
	ctx := testCtx(t)
	id := newJob(t, "batch", "").ID
	at := time.Now()
	mustNil(t, "register h1", s.RegisterHost(ctx, "h1", "id-h1")) // History reads registered hosts
	batch := []store.StatusAt{
		{Status: model.TaskStatus{State: model.StateCreating}, At: at},
		// Same instant as the one before: still a later key, so order is kept.
		{Status: model.TaskStatus{State: model.StateStarting, ContainerID: "c1"}, At: at},
		{Status: model.TaskStatus{State: model.StateRunning, ContainerID: "c1"}, At: at.Add(time.Millisecond)},
	}
	mustNil(t, "batch", s.SetTaskStatuses(ctx, "h1", id, batch))
	// A second batch at the very same time as the first clashes with its keys: it moves on.
	mustNil(t, "clashing batch", s.SetTaskStatuses(ctx, "h1", id, []store.StatusAt{
		{Status: model.TaskStatus{State: model.StateExited, ContainerID: "c1"}, At: at},
		{Status: model.TaskStatus{State: model.StateCreating}, At: at.Add(2 * time.Millisecond)},
	}))

	events, err := s.History(ctx, id)
	mustNil(t, "history", err)
	var got []model.State
	for _, ev := range events {
		got = append(got, ev.Status.State)
	}
	want := []model.State{model.StateCreating, model.StateStarting, model.StateExited, model.StateRunning, model.StateCreating}
	if !reflect.DeepEqual(got, want) {
		// The clashing batch's EXITED is timed at the first batch's start, so it sorts
		// among that batch's events, after the keys it met: every event kept, none lost.
		t.Errorf("history %v, want %v", got, want)
	}
	sts, err := s.TaskStatuses(ctx, "h1")
	mustNil(t, "task statuses", err)
	if sts[id].State != model.StateCreating {
		t.Errorf("task status %s, want the last of the last batch", sts[id].State)
	}
	if n := len(keysUnder(t, cli, s.Keys().HostHistory(id, "h1"))); n != 5 {
		t.Fatalf("%d events before the trim, want all 5", n)
	}
	mustNil(t, "trim", s.TrimTaskHistory(ctx, "h1", id))
	if n := len(keysUnder(t, cli, s.Keys().HostHistory(id, "h1"))); n != 4 {
		t.Errorf("%d events after the trim, want 4", n)
	}
	if err := s.SetTaskStatuses(ctx, "h1", id, nil); err == nil {
		t.Error("an empty batch was accepted")
	}
	wantErr(t, "bad host", s.SetTaskStatuses(ctx, "a/b", id, batch), store.ErrInvalidName)
}
