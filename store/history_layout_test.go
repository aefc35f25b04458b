package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// putEvent writes one history event at key, as an agent of either layout would.
func putEvent(t *testing.T, cli *clientv3.Client, key, host, container string, ms int64) {
	t.Helper()
	b, err := json.Marshal(model.TaskStatusEvent{Status: model.TaskStatus{State: model.StateRunning, ContainerID: container}, Timestamp: ms, Host: host})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(context.Background(), key, string(b)); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// historyOf is a job's history as host/container strings, oldest first.
func historyOf(t *testing.T, s *store.Store, id model.JobID) []string {
	t.Helper()
	evs, err := s.History(testCtx(t), id)
	mustNil(t, "history", err)
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Host+"/"+ev.Status.ContainerID)
	}
	return out
}

// An older agent's legacy events and a newer agent's per-host ones make one history, in
// time order, and an event present in both layouts (same host and time) counts once.
func TestHistoryMergesBothLayouts(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	k := s.Keys()
	id, other := newJob(t, "web", "").ID, newJob(t, "db", "").ID
	for _, h := range []string{"h1", "h2"} {
		mustNil(t, "register", s.RegisterHost(ctx, h, "id-"+h))
	}
	putEvent(t, cli, k.LegacyHistoryEvent(id, "h1", 1_000_000), "h1", "old1", 1)
	putEvent(t, cli, k.HistoryEvent(id, "h1", 2_000_000), "h1", "new2", 2)
	putEvent(t, cli, k.LegacyHistoryEvent(id, "h2", 3_000_000), "h2", "both3", 3)
	putEvent(t, cli, k.HistoryEvent(id, "h2", 3_000_000), "h2", "both3", 3)
	putEvent(t, cli, k.HistoryEvent(id, "h2", 4_000_000), "h2", "new4", 4)
	putEvent(t, cli, k.HistoryEvent(other, "h2", 5_000_000), "h2", "other", 5)
	putEvent(t, cli, k.HistoryEvent(id, "gone", 6_000_000), "gone", "unregistered", 6)

	want := []string{"h1/old1", "h1/new2", "h2/both3", "h2/new4"}
	if got := historyOf(t, s, id); !reflect.DeepEqual(got, want) {
		t.Errorf("history %v, want %v", got, want)
	}
}

// recorder collects what WatchJobHistory delivers.
type recorder struct {
	mu     sync.Mutex
	resets [][]string
	events []string
	ch     chan struct{}
}

func recs(rs []store.HistoryRecord) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Host+"/"+r.Event.Status.ContainerID)
	}
	return out
}

func (r *recorder) reset(rs []store.HistoryRecord) {
	r.mu.Lock()
	r.resets = append(r.resets, recs(rs))
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *recorder) add(rs []store.HistoryRecord) {
	r.mu.Lock()
	r.events = append(r.events, recs(rs)...)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *recorder) waitEvents(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		got := append([]string(nil), r.events...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("watch delivered %v, want %d events", got, n)
		}
	}
}

// The watch lists both layouts, then delivers new events of either layout, and none of
// another job's.
func TestWatchJobHistoryFollowsBothLayouts(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	k := s.Keys()
	id, other := newJob(t, "web", "").ID, newJob(t, "db", "").ID
	mustNil(t, "register", s.RegisterHost(ctx, "h1", "id-h1"))
	putEvent(t, cli, k.LegacyHistoryEvent(id, "h1", 1), "h1", "old", 1)
	putEvent(t, cli, k.HistoryEvent(id, "h1", 2), "h1", "new", 2)

	r := &recorder{ch: make(chan struct{}, 100)}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.WatchJobHistory(wctx, id, r.reset, r.add) }()
	<-r.ch // the first reset
	putEvent(t, cli, k.HistoryEvent(other, "h1", 3), "h1", "other-job", 3)
	putEvent(t, cli, k.LegacyHistoryEvent(id, "h1", 4), "h1", "old-later", 4)
	mustNil(t, "status", s.SetTaskStatuses(ctx, "h1", id, []store.StatusAt{{Status: model.TaskStatus{State: model.StateRunning, ContainerID: "new-later"}, At: time.Now()}}))
	got := r.waitEvents(t, 2)
	cancel()
	<-done
	if want := []string{"h1/old", "h1/new"}; !reflect.DeepEqual(r.resets[0], want) {
		t.Errorf("first reset %v, want %v", r.resets[0], want)
	}
	want := map[string]bool{"h1/old-later": true, "h1/new-later": true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] {
		t.Errorf("events %v, want old-later and new-later, nothing of another job", got)
	}
}

// The migration moves every legacy key (more than one transaction's worth) to the per-host
// layout with its value, leaves the merged history as it was, deletes a key it cannot
// place, and finds nothing the second time. A run that a previous leader left half done
// (some keys moved already) completes without duplicates.
func TestMigrateHistoryMovesEveryKeyOnce(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{HistoryLimit: 1000})
	ctx := testCtx(t)
	k := s.Keys()
	ids := []model.JobID{newJob(t, "web", "").ID, newJob(t, "db", "").ID}
	hosts := []string{"h1", "h2"}
	for _, h := range hosts {
		mustNil(t, "register", s.RegisterHost(ctx, h, "id-"+h))
	}
	n := 0
	for _, id := range ids {
		for _, h := range hosts {
			for i := range 40 {
				putEvent(t, cli, k.LegacyHistoryEvent(id, h, int64(i)*1000), h, fmt.Sprint("c", i), int64(i))
				n++
			}
		}
	}
	// What a leader deposed midway leaves: a few events already in the new layout only.
	for i := range 5 {
		key := k.LegacyHistoryEvent(ids[0], "h1", int64(i)*1000)
		putEvent(t, cli, k.HistoryEvent(ids[0], "h1", int64(i)*1000), "h1", fmt.Sprint("c", i), int64(i))
		if _, err := cli.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	odd := k.LegacyHistories() + "not-a-shape"
	if _, err := cli.Put(ctx, odd, "x"); err != nil {
		t.Fatal(err)
	}
	before := map[model.JobID][]string{}
	for _, id := range ids {
		before[id] = historyOf(t, s, id)
		if len(before[id]) != 80 {
			t.Fatalf("history of %s before migration has %d events, want 80", id, len(before[id]))
		}
	}

	l, err := s.Campaign(ctx, "m1", 5*time.Second)
	mustNil(t, "campaign", err)
	moved, err := s.MigrateHistory(ctx, l)
	mustNil(t, "migrate", err)
	if want := n - 5 + 1; moved != want {
		t.Errorf("moved %d keys, want %d", moved, want)
	}
	if left := keysUnder(t, cli, k.LegacyHistories()); len(left) != 0 {
		t.Errorf("legacy keys left: %v", left)
	}
	if got := len(keysUnder(t, cli, k.HostHistories())); got != n {
		t.Errorf("%d keys in the per-host layout, want %d", got, n)
	}
	for _, id := range ids {
		if got := historyOf(t, s, id); !reflect.DeepEqual(got, before[id]) {
			t.Errorf("history of %s changed by the migration:\n got %v\nwant %v", id, got, before[id])
		}
	}
	again, err := s.MigrateHistory(ctx, l)
	mustNil(t, "migrate again", err)
	if again != 0 {
		t.Errorf("second run moved %d keys, want 0", again)
	}
}

// A deposed leader's migration moves nothing.
func TestMigrateHistoryIsFenced(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	id := newJob(t, "web", "").ID
	putEvent(t, cli, s.Keys().LegacyHistoryEvent(id, "h1", 1), "h1", "c", 1)
	l, err := s.Campaign(ctx, "m1", 5*time.Second)
	mustNil(t, "campaign", err)
	mustNil(t, "resign", l.Resign(ctx))
	_, err = s.MigrateHistory(ctx, l)
	wantErr(t, "migrate after resigning", err, store.ErrNotLeader)
	if left := keysUnder(t, cli, s.Keys().LegacyHistories()); len(left) != 1 {
		t.Errorf("legacy keys %v, want the one untouched", left)
	}
}

// Deregistering a host deletes its history in both layouts; removing a job deletes the
// job's history in both layouts on every host, and nothing of another job.
func TestHistoryDeletesCoverBothLayouts(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	k := s.Keys()
	job, keep := newJob(t, "web", ""), newJob(t, "db", "")
	mustNil(t, "create", s.CreateJob(ctx, job))
	mustNil(t, "create", s.CreateJob(ctx, keep))
	for _, h := range []string{"h1", "h2"} {
		mustNil(t, "register", s.RegisterHost(ctx, h, "id-"+h))
		mustNil(t, "deploy", s.Deploy(ctx, h, model.Deployment{JobID: keep.ID}, ""))
		putEvent(t, cli, k.LegacyHistoryEvent(job.ID, h, 1), h, "old", 1)
		putEvent(t, cli, k.HistoryEvent(job.ID, h, 2), h, "new", 2)
		putEvent(t, cli, k.LegacyHistoryEvent(keep.ID, h, 1), h, "old", 1)
		putEvent(t, cli, k.HistoryEvent(keep.ID, h, 2), h, "new", 2)
	}
	mustNil(t, "remove", s.RemoveJob(ctx, job.ID, ""))
	if left := append(keysUnder(t, cli, k.LegacyHistory(job.ID)), append(keysUnder(t, cli, k.HostHistory(job.ID, "h1")), keysUnder(t, cli, k.HostHistory(job.ID, "h2"))...)...); len(left) != 0 {
		t.Errorf("history of the removed job left: %v", left)
	}
	if got := historyOf(t, s, keep.ID); len(got) != 4 {
		t.Errorf("history of the other job %v, want its 4 events", got)
	}
	mustNil(t, "deregister", s.DeregisterHost(ctx, "h1", false))
	if left := append(keysUnder(t, cli, k.LegacyHostHistory(keep.ID, "h1")), keysUnder(t, cli, k.HostHistoryRoot("h1"))...); len(left) != 0 {
		t.Errorf("history of the deregistered host left: %v", left)
	}
	if want := []string{"h2/old", "h2/new"}; !reflect.DeepEqual(historyOf(t, s, keep.ID), want) {
		t.Errorf("history after deregistering h1 %v, want %v", historyOf(t, s, keep.ID), want)
	}
}
