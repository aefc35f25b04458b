package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

func ev(host string, ts int64, state model.State) model.TaskStatusEvent {
	return model.TaskStatusEvent{Host: host, Timestamp: ts, Status: model.TaskStatus{State: state, Throttled: model.ThrottleNo}}
}

func TestSeenEvents(t *testing.T) {
	s := newSeenEvents()
	if _, ok := s.since(); ok {
		t.Fatal("since before any event")
	}
	steps := []struct {
		ev   model.TaskStatusEvent
		want bool
	}{
		{ev("a", 100, model.StateCreating), true},
		{ev("a", 100, model.StateCreating), false}, // the same event again
		{ev("a", 100, model.StateStarting), true},  // another event in the same millisecond
		{ev("a", 99, model.StateExited), false},    // older than the newest seen: replayed
		{ev("b", 50, model.StateCreating), true},   // hosts are independent
		{ev("a", 101, model.StateRunning), true},
		{ev("a", 100, model.StateStarting), false},
		{ev("b", 50, model.StateCreating), false},
	}
	for i, st := range steps {
		if got := s.add(st.ev); got != st.want {
			t.Fatalf("step %d %+v: new=%v, want %v", i, st.ev, got, st.want)
		}
	}
	if ms, ok := s.since(); !ok || ms != 50 {
		t.Fatalf("since = %d %v, want 50 (the oldest host's newest event)", ms, ok)
	}
}

// A stream that closes, and one that goes silent, are reopened from where they stopped;
// what the master repeats is not handed on twice.
func TestWatchEventsReconnectsAndDedups(t *testing.T) {
	events := []model.TaskStatusEvent{
		ev("h1", 1000, model.StateCreating), ev("h1", 2000, model.StateStarting),
		ev("h1", 3000, model.StateHealthchecking), ev("h1", 4000, model.StateRunning),
	}
	line := func(e model.TaskStatusEvent) string { b, _ := json.Marshal(e); return string(b) + "\n" }
	var conns atomic.Int32
	sinces := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jobs/j:1:abc/watch" || r.URL.Query().Get("host") != "h1" {
			http.Error(w, `{"status":"NOT_FOUND"}`, http.StatusNotFound)
			return
		}
		sinces <- r.URL.Query().Get("since")
		w.Header().Set("Content-Type", "application/x-ndjson")
		f := w.(http.Flusher)
		switch conns.Add(1) {
		case 1: // two events, then the master goes away
			fmt.Fprint(w, line(events[0])+line(events[1]))
			f.Flush()
		case 2: // a replay, a new one, then silence: no heartbeat either
			fmt.Fprint(w, line(events[1])+"\n"+line(events[2]))
			f.Flush()
			<-r.Context().Done()
		default:
			fmt.Fprint(w, line(events[2])+line(events[3]))
			f.Flush()
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	c := testClient(srv.URL)
	c.retryDelay = func(int) time.Duration { return 10 * time.Millisecond }
	c.streamIdle = 300 * time.Millisecond

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []model.TaskStatusEvent
	errDone := errors.New("done")
	err := c.watchEvents(ctx, "j:1:abc", []string{"h1"}, newSeenEvents(), func(e model.TaskStatusEvent) error {
		got = append(got, e)
		if len(got) == len(events) {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("watchEvents: %v (got %d events)", err, len(got))
	}
	for i := range events {
		if got[i].Timestamp != events[i].Timestamp || got[i].Status.State != events[i].Status.State {
			t.Fatalf("event %d: %+v, want %+v", i, got[i], events[i])
		}
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
	for i, want := range []string{"", "2000", "3000"} {
		if s := <-sinces; s != want {
			t.Fatalf("connection %d: since=%q, want %q", i+1, s, want)
		}
	}

	// A refusal is not retried.
	err = c.watchEvents(ctx, "other:1:abc", []string{"h1"}, newSeenEvents(), func(model.TaskStatusEvent) error { return nil })
	if !isStatus(err, "NOT_FOUND") {
		t.Fatalf("unknown job: %v", err)
	}
	// Ending ctx ends the watch.
	cctx, ccancel := context.WithCancel(ctx)
	time.AfterFunc(200*time.Millisecond, ccancel)
	err = c.watchEvents(cctx, "j:1:abc", []string{"h1"}, newSeenEvents(), func(model.TaskStatusEvent) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled watch returned %v", err)
	}
}
