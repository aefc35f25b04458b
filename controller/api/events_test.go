package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// withEvents gives the env a running event hub with the given bounds (0: defaults).
func withEvents(t *testing.T, buffer, perClient int, hub **Events) func(*Config) {
	return func(c *Config) {
		h := NewEvents(EventsConfig{Store: c.Store.(*store.Store), Buffer: buffer, SubscriberBuffer: perClient, Now: func() time.Time { return testNow }})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = h.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		c.Events = h
		if hub != nil {
			*hub = h
		}
	}
}

// nextEvent is the stream's next event, skipping heartbeats; it fails after 10 s.
func (s *stream) nextEvent(t *testing.T) model.ClusterEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatal("the event stream ended")
			}
			if l == "" {
				continue
			}
			var ev model.ClusterEvent
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("bad event line %q: %v", l, err)
			}
			return ev
		case <-timeout:
			t.Fatal("no event within 10s")
		}
	}
}

// events reads n events.
func (s *stream) events(t *testing.T, n int) []model.ClusterEvent {
	t.Helper()
	out := make([]model.ClusterEvent, n)
	for i := range out {
		out[i] = s.nextEvent(t)
	}
	return out
}

// seq is events as "rev.index:TYPE:names", to compare sequences.
func seq(evs []model.ClusterEvent) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%d.%d:%s:%s%s%s ", e.Revision, e.Index, e.Type, e.Host, e.JobID, e.Group)
	}
	return b.String()
}

// registerHosts registers hosts h<from>..h<to>, one revision each.
func (e *env) registerHosts(from, to int) {
	e.t.Helper()
	for i := from; i <= to; i++ {
		e.registerHost("h" + strconv.Itoa(i))
	}
}

func TestEventsStreamEveryKindOfChange(t *testing.T) {
	e := newEnv(t, withEvents(t, 0, 0, nil))
	s := e.openWatch(e.srv.URL, "/events")
	if s.resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /events: %d", s.resp.StatusCode)
	}
	e.registerHost("web1")
	id := e.createJob(watchJobJSON)
	e.expect(e.do("PUT", "/hosts/web1/jobs/"+string(id), `{"goal":"START"}`), http.StatusOK, model.StatusOK, nil)
	e.expect(e.do("PATCH", "/hosts/web1/jobs/"+string(id), `{"goal":"STOP"}`), http.StatusOK, model.StatusOK, nil)
	k := store.NewKeys("")
	ctx := ctxT(t)
	status, _ := json.Marshal(model.TaskStatus{State: model.StateRunning, Goal: model.GoalStart})
	for _, kv := range [][2]string{{k.Up("web1"), ""}, {k.TaskStatus("web1", id), string(status)}} {
		if _, err := e.cli.Put(ctx, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.cli.Delete(ctx, k.Up("web1")); err != nil {
		t.Fatal(err)
	}
	e.expect(e.do("DELETE", "/hosts/web1/jobs/"+string(id), nil), http.StatusOK, model.StatusOK, nil)
	e.expect(e.do("DELETE", "/jobs/"+string(id), nil), http.StatusOK, model.StatusOK, nil)
	e.expect(e.do("DELETE", "/hosts/web1", nil), http.StatusOK, model.StatusOK, nil)

	want := []model.ClusterEventType{model.EventHostRegistered, model.EventJobCreated, model.EventDeployed, model.EventGoalChanged,
		model.EventHostUp, model.EventTaskState, model.EventHostDown, model.EventUndeployed, model.EventJobRemoved, model.EventHostDeregistered}
	evs := s.events(t, len(want))
	for i, ev := range evs {
		if ev.Type != want[i] {
			t.Fatalf("event %d: %s, want %s; all: %s", i, ev.Type, want[i], seq(evs))
		}
		if ev.Time != testNow.UnixMilli() || ev.Host == "" && ev.JobID == "" {
			t.Fatalf("event %+v: want the master's time and a name", ev)
		}
		if i > 0 && !ev.After(evs[i-1].Revision, evs[i-1].Index) {
			t.Fatalf("events out of order: %s", seq(evs))
		}
	}
	if p := evs[5].Payload; p == nil || p.State != model.StateRunning || evs[5].JobID != id {
		t.Fatalf("TASK_STATE %+v: want the job and state RUNNING", evs[5])
	}
	if p := evs[3].Payload; p == nil || p.Goal != model.GoalStop || p.PreviousGoal != model.GoalStart {
		t.Fatalf("GOAL_CHANGED %+v: want STOP after START", evs[3])
	}
}

func TestEventsResumeFromTheBufferWithoutGapsOrRepeats(t *testing.T) {
	var hub *Events
	e := newEnv(t, withEvents(t, 100, 0, &hub))
	all := e.openWatch(e.srv.URL, "/events")
	e.registerHosts(1, 4)
	first := all.events(t, 4)
	e.registerHosts(5, 8) // while the "client" is away
	truth := append(first, all.events(t, 4)...)

	// Resuming at the last revision read (2nd event) gives it again, then the rest: the
	// client drops what it has by (revision, index).
	last := first[1]
	resumed := e.openWatch(e.srv.URL, "/events?fromRevision="+strconv.FormatInt(last.Revision, 10))
	got := resumed.events(t, 7)
	if seq(got) != seq(truth[1:]) {
		t.Fatalf("resumed:\n%s\nwant:\n%s", seq(got), seq(truth[1:]))
	}
	// and it goes on live.
	e.registerHost("h9")
	if a, b := all.nextEvent(t), resumed.nextEvent(t); seq([]model.ClusterEvent{a}) != seq([]model.ClusterEvent{b}) || a.Host != "h9" {
		t.Fatalf("live after resume: %s vs %s", seq([]model.ClusterEvent{a}), seq([]model.ClusterEvent{b}))
	}
	wantResumes(t, hub, 1, 0, 0)
}

// wantResumes checks helios_master_event_stream_resumes_total by outcome.
func wantResumes(t *testing.T, hub *Events, buffer, watch, compacted float64) {
	t.Helper()
	for outcome, want := range map[string]float64{resumeBuffer: buffer, resumeWatch: watch, resumeCompacted: compacted} {
		if got := testutil.ToFloat64(hub.m.resumes.WithLabelValues(outcome)); got != want {
			t.Errorf("resumes{outcome=%q} = %v, want %v", outcome, got, want)
		}
	}
}

func TestEventsResumeOlderThanTheBufferUsesItsOwnWatch(t *testing.T) {
	var hub *Events
	e := newEnv(t, withEvents(t, 3, 0, &hub))
	all := e.openWatch(e.srv.URL, "/events")
	e.registerHosts(1, 8)
	truth := all.events(t, 8)
	hub.mu.Lock()
	floor := hub.floor
	hub.mu.Unlock()
	if floor < truth[1].Revision {
		t.Fatalf("the buffer of 3 still reaches back to revision %d; the test needs it not to", floor)
	}
	resumed := e.openWatch(e.srv.URL, "/events?fromRevision="+strconv.FormatInt(truth[1].Revision, 10))
	got := resumed.events(t, 7)
	if seq(got) != seq(truth[1:]) {
		t.Fatalf("resumed from its own watch:\n%s\nwant:\n%s", seq(got), seq(truth[1:]))
	}
	e.registerHost("h9")
	if a, b := all.nextEvent(t), resumed.nextEvent(t); seq([]model.ClusterEvent{a}) != seq([]model.ClusterEvent{b}) {
		t.Fatalf("live after resume: %s vs %s", seq([]model.ClusterEvent{a}), seq([]model.ClusterEvent{b}))
	}
	wantResumes(t, hub, 0, 1, 0)
}

func TestEventsFromACompactedRevisionAreGone(t *testing.T) {
	var hub *Events
	e := newEnv(t, withEvents(t, 2, 0, &hub))
	all := e.openWatch(e.srv.URL, "/events")
	e.registerHosts(1, 5)
	evs := all.events(t, 5)
	if _, err := e.cli.Compact(ctxT(t), e.revision()); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/events?fromRevision="+strconv.FormatInt(evs[0].Revision, 10), nil)
	e.expect(r, http.StatusGone, statusRevisionCompacted, nil)
	if !strings.Contains(string(r.body), "without fromRevision") {
		t.Fatalf("410 body %s: want it to say how to start again", r.body)
	}
	// The buffered revisions stay resumable.
	s := e.openWatch(e.srv.URL, "/events?fromRevision="+strconv.FormatInt(evs[4].Revision, 10))
	if got := s.nextEvent(t); seq([]model.ClusterEvent{got}) != seq(evs[4:]) {
		t.Fatalf("from the buffer after compaction: %+v", got)
	}
	wantResumes(t, hub, 1, 0, 1)
}

func TestEventsBadFromRevision(t *testing.T) {
	e := newEnv(t, withEvents(t, 0, 0, nil))
	for _, v := range []string{"x", "-1", "0", "1.5", "%201"} {
		e.expect(e.do("GET", "/events?fromRevision="+v, nil), http.StatusBadRequest, model.StatusBadRequest, nil)
	}
	// Without a hub the route says so.
	e2 := newEnv(t)
	e2.expect(e2.do("GET", "/events", nil), http.StatusServiceUnavailable, model.StatusServiceUnavailable, nil)
}

func TestParseFromRevision(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true}, {"1", 1, true}, {"123456789012", 123456789012, true},
		{"0", 0, false}, {"-5", 0, false}, {"x", 0, false}, {" 5", 0, false}, {"5 ", 0, false},
		{"9223372036854775808", 0, false}, {"1e3", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseFromRevision(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseFromRevision(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "fromRevision") {
			t.Errorf("error %q does not name the parameter", err)
		}
	}
}

func FuzzParseFromRevision(f *testing.F) {
	for _, s := range []string{"", "1", "-1", "x", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rev, err := ParseFromRevision(s)
		switch {
		case err != nil && !strings.Contains(err.Error(), "fromRevision"):
			t.Fatalf("%q: error %q does not name the parameter", s, err)
		case err == nil && s == "" && rev != 0, err == nil && s != "" && rev <= 0:
			t.Fatalf("%q accepted as %d: want 0 for none, else a positive revision", s, rev)
		}
	})
}

// gatedWriter is a client that stops reading: every Write waits for the gate to open.
type gatedWriter struct {
	header http.Header
	gate   chan struct{}
	mu     sync.Mutex
	buf    bytes.Buffer
	code   int
}

func (w *gatedWriter) Header() http.Header  { return w.header }
func (w *gatedWriter) WriteHeader(code int) { w.code = code }
func (w *gatedWriter) Flush()               {}
func (w *gatedWriter) Write(b []byte) (int, error) {
	<-w.gate
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

func TestEventsSlowReaderIsCutOffWithAMessage(t *testing.T) {
	var hub *Events
	var cfg Config
	e := newEnv(t, withEvents(t, 0, 3, &hub), func(c *Config) { cfg = *c })
	cfg.Registerer = nil // a second handler over the same hub, called directly
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &gatedWriter{header: http.Header{}, gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequest("GET", "/events", nil).WithContext(ctx)
	served := make(chan struct{})
	go func() { defer close(served); h.ServeHTTP(w, req) }()

	all := e.openWatch(e.srv.URL, "/events") // a reader that keeps up, for the truth
	// The slow client's hub subscription exists once its handler is past subscribe: wait
	// for two subscribers.
	waitFor(t, "both streams to subscribe", func() bool {
		hub.mu.Lock()
		defer hub.mu.Unlock()
		return len(hub.subs) == 2
	})
	// One host at a time, each read by the fast reader before the next: its queue (as small
	// as the slow one's, 3) never holds more than one event, however slow the machine, while
	// the slow client blocks in Write on one, queues 3, and then overflows.
	var truth []model.ClusterEvent
	for i := 1; i <= 10; i++ {
		e.registerHost("h" + strconv.Itoa(i))
		truth = append(truth, all.nextEvent(t))
	}
	waitFor(t, "the slow client to be cut off", func() bool { return hub.slowCuts() == 1 })
	if got := testutil.ToFloat64(hub.m.slowCuts); got != 1 {
		t.Fatalf("helios_master_event_streams_cut_total = %v, want 1", got)
	}
	close(w.gate)
	select {
	case <-served:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow client's handler did not return once cut off")
	}
	var got []model.ClusterEvent
	for _, l := range strings.Split(strings.TrimSpace(w.buf.String()), "\n") {
		var ev model.ClusterEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, ev)
	}
	last := got[len(got)-1]
	if last.Type != model.EventStreamCut || !strings.Contains(last.Message, "cut off") || !strings.Contains(last.Message, "fromRevision") {
		t.Fatalf("last line %+v: want STREAM_CUT saying why and how to resume", last)
	}
	events := got[:len(got)-1]
	// It got what it had taken and what was queued (one being written, three queued, at
	// least), in order, and not all ten.
	if len(events) < 4 || len(events) >= len(truth) || seq(events) != seq(truth[:len(events)]) {
		t.Fatalf("before the cut:\n%s\nwant a prefix of 4 to 9 of:\n%s", seq(events), seq(truth))
	}
	// The hub forgot it, and the fast reader goes on.
	hub.mu.Lock()
	n := len(hub.subs)
	hub.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d subscribers left, want 1", n)
	}
	e.registerHost("h11")
	if ev := all.nextEvent(t); ev.Host != "h11" {
		t.Fatalf("the fast reader got %+v", ev)
	}
}

func TestEventStreamsAreCapped(t *testing.T) {
	e := newEnv(t, withEvents(t, 0, 0, nil), func(c *Config) { c.MaxStreams, c.MaxStreamsPerClient = 100, 1 })
	s := e.openWatch(e.srv.URL, "/events")
	if s.resp.StatusCode != http.StatusOK {
		t.Fatalf("the first stream: %d", s.resp.StatusCode)
	}
	r := e.do("GET", "/events", nil)
	e.expect(r, http.StatusTooManyRequests, model.StatusTooManyStreams, nil)
}

func TestMetricsAuthFlag(t *testing.T) {
	open := newEnv(t, func(c *Config) { c.Tokens = testTokens })
	if r := open.doAs("", "GET", "/metrics", nil); r.code != http.StatusOK {
		t.Fatalf("/metrics without a token, by default: %d, want 200", r.code)
	}
	closed := newEnv(t, func(c *Config) { c.Tokens, c.MetricsAuth = testTokens, true })
	if r := closed.doAs("", "GET", "/metrics", nil); r.code != http.StatusUnauthorized {
		t.Fatalf("/metrics without a token, --metrics-auth: %d, want 401", r.code)
	}
	if r := closed.doAs("reader-token-0123456789", "GET", "/metrics", nil); r.code != http.StatusOK {
		t.Fatalf("/metrics as a reader, --metrics-auth: %d, want 200", r.code)
	}
	e := newEnv(t, withEvents(t, 0, 0, nil), func(c *Config) { c.Tokens = testTokens })
	if r := e.doAs("", "GET", "/events", nil); r.code != http.StatusUnauthorized {
		t.Fatalf("/events without a token: %d, want 401", r.code)
	}
}

// fakeEventStore fails watches as told.
type fakeEventStore struct {
	rev     int64
	watches chan error // what each WatchChanges returns (blocks until told)
}

func (f *fakeEventStore) Revision(context.Context) (int64, error)    { return f.rev, nil }
func (f *fakeEventStore) CheckRevision(context.Context, int64) error { return nil }
func (f *fakeEventStore) WatchChanges(ctx context.Context, _ int64, _ func([]model.KeyChange, int64)) error {
	select {
	case err := <-f.watches:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestEventStreamsEndWhenTheirRevisionsAreCompacted(t *testing.T) {
	fs := &fakeEventStore{rev: 100, watches: make(chan error, 1)}
	hub := NewEvents(EventsConfig{Store: fs})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); _ = hub.Run(ctx) }()

	// The shared watch falls behind compaction: every subscriber gets STREAM_RESET.
	sub, _, ok, err := hub.subscribe(ctx, 0)
	if !ok || err != nil {
		t.Fatalf("subscribe: %v %v", ok, err)
	}
	fs.watches <- fmt.Errorf("watch: %w", store.ErrCompacted)
	select {
	case <-sub.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscriber was not told its stream ended")
	}
	if sub.final.Type != model.EventStreamReset || !strings.Contains(sub.final.Message, "lost its place") {
		t.Fatalf("final event %+v, want STREAM_RESET", sub.final)
	}
	if got := testutil.ToFloat64(hub.m.resets); got != 1 {
		t.Fatalf("helios_master_event_watch_resets_total = %v, want 1", got)
	}

	// A stream on its own watch whose revisions get compacted: STREAM_COMPACTED.
	// (Another hub, not running, so its watch is the stream's alone.)
	fs2 := &fakeEventStore{rev: 100, watches: make(chan error, 1)}
	hub2 := NewEvents(EventsConfig{Store: fs2})
	s, err := newServer(Config{Store: storeless{}, Events: hub2})
	if err != nil {
		t.Fatal(err)
	}
	own := newSubscriber(10, 5)
	fs2.watches <- fmt.Errorf("watch: %w", store.ErrCompacted)
	s.ownEventWatch(ctx, hub2, 5, own)
	if own.final.Type != model.EventStreamCompacted || !strings.Contains(own.final.Message, "without fromRevision") {
		t.Fatalf("final event %+v, want STREAM_COMPACTED saying how to start again", own.final)
	}
	cancel()
	<-done
}

// storeless is an API Store that is never called.
type storeless struct{ Store }
