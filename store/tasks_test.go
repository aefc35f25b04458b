package store_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

func TestSetTaskStatusRecordsHistoryAndTrims(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{HistoryLimit: 5})
	ctx := testCtx(t)
	id := newJob(t, "web", "").ID
	start := time.Now().UnixMilli()
	mustNil(t, "register h1", s.RegisterHost(ctx, "h1", "id-h1"))    // History reads registered hosts
	mustNil(t, "register h10", s.RegisterHost(ctx, "h10", "id-h10")) // History reads registered hosts
	for i := range 8 {
		st := model.TaskStatus{State: model.StateRunning, ContainerID: fmt.Sprint("c", i)}
		mustNil(t, "set status", s.SetTaskStatus(ctx, "h1", id, st, true))
	}
	mustNil(t, "other host", s.SetTaskStatus(ctx, "h10", id, model.TaskStatus{State: model.StateExited}, true))
	mustNil(t, "no event", s.SetTaskStatus(ctx, "h1", id, model.TaskStatus{State: model.StateStopped, ContainerID: "c8"}, false))

	keys := keysUnder(t, cli, s.Keys().HostHistory(id, "h1"))
	if len(keys) != 5 {
		t.Fatalf("%d events kept on h1, want 5: %v", len(keys), keys)
	}
	for _, k := range keys {
		if seg := store.Base(k); len(seg) != 20 || strings.Trim(seg, "0123456789") != "" {
			t.Errorf("event key %s does not end in a 20-digit timestamp", k)
		}
	}
	events, err := s.History(ctx, id)
	mustNil(t, "history", err)
	var got []string
	for i, ev := range events {
		got = append(got, ev.Host+"/"+ev.Status.ContainerID)
		if ev.Timestamp < start || ev.Timestamp > time.Now().UnixMilli() {
			t.Errorf("event timestamp %d is not ms since the epoch", ev.Timestamp)
		}
		if i > 0 && events[i-1].Timestamp > ev.Timestamp {
			t.Errorf("events not sorted by time: %d after %d", ev.Timestamp, events[i-1].Timestamp)
		}
	}
	if want := []string{"h1/c3", "h1/c4", "h1/c5", "h1/c6", "h1/c7", "h10/"}; !reflect.DeepEqual(got, want) {
		t.Errorf("history %v, want %v (oldest trimmed, newest first kept)", got, want)
	}

	sts, err := s.TaskStatuses(ctx, "h1")
	mustNil(t, "task statuses", err)
	if len(sts) != 1 || sts[id].ContainerID != "c8" || sts[id].State != model.StateStopped {
		t.Errorf("task statuses %+v, want the last one written", sts)
	}
	mustNil(t, "delete", s.DeleteTaskStatus(ctx, "h1", id))
	sts, err = s.TaskStatuses(ctx, "h1")
	mustNil(t, "task statuses", err)
	if len(sts) != 0 {
		t.Errorf("task statuses after delete: %+v", sts)
	}
	if n := len(keysUnder(t, cli, s.Keys().HostHistory(id, "h1"))); n != 5 {
		t.Errorf("deleting the status touched history: %d events", n)
	}
	wantErr(t, "status of bad host", s.SetTaskStatus(ctx, "a/b", id, model.TaskStatus{}, true), store.ErrInvalidName)
}

func TestMasters(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := context.Background()
	l, err := cli.Grant(ctx, 30)
	mustNil(t, "grant", err)
	mustNil(t, "put m2", s.PutMaster(ctx, model.MasterInfo{Name: "m2", Version: "1"}, store.LeaseID(l.ID)))
	mustNil(t, "put m1", s.PutMaster(ctx, model.MasterInfo{Name: "m1", Version: "1"}, store.LeaseID(l.ID)))
	ms, err := s.ListMasters(ctx)
	mustNil(t, "list", err)
	if len(ms) != 2 || ms[0].Name != "m1" || ms[1].Name != "m2" {
		t.Errorf("masters %+v, want m1, m2", ms)
	}
	_, err = cli.Revoke(ctx, l.ID)
	mustNil(t, "revoke", err)
	ms, err = s.ListMasters(ctx)
	mustNil(t, "list", err)
	if len(ms) != 0 {
		t.Errorf("masters outlived their lease: %+v", ms)
	}
	wantErr(t, "bad master name", s.PutMaster(ctx, model.MasterInfo{Name: "a/b"}, store.LeaseID(l.ID)), store.ErrInvalidName)
}
