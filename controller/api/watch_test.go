package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

const watchJobJSON = `{"id":"web:1","image":"busybox"}`

// stream is one open GET /jobs/{id}/watch: its lines arrive on a channel.
type stream struct {
	resp  *http.Response
	lines chan string // closed when the body ends
	stop  context.CancelFunc
}

func (e *env) openWatch(baseURL, path string) *stream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", baseURL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	s := &stream{resp: resp, lines: make(chan string, 100), stop: cancel}
	go func() {
		defer close(s.lines)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	return s
}

// next is the next event, skipping heartbeats; it fails after 10 s.
func (s *stream) next(t *testing.T) model.TaskStatusEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatal("stream ended, want an event")
			}
			if l == "" {
				continue
			}
			var ev model.TaskStatusEvent
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("line %q is not an event: %v", l, err)
			}
			return ev
		case <-timeout:
			t.Fatal("no event within 10s")
		}
	}
}

// quiet fails if an event arrives within d.
func (s *stream) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-s.lines:
			if ok && l != "" {
				t.Fatalf("unexpected event %s", l)
			}
			if !ok {
				return
			}
		case <-timeout:
			return
		}
	}
}

func (e *env) setStatus(host string, id model.JobID, state model.State) {
	e.t.Helper()
	// An agent registers before it reports: history is read per registered host.
	if err := e.store.RegisterHost(ctxT(e.t), host, "id-"+host); err != nil {
		e.t.Fatalf("register %s: %v", host, err)
	}
	err := e.store.SetTaskStatus(ctxT(e.t), host, id, model.TaskStatus{Goal: model.GoalStart, State: state, Throttled: model.ThrottleNo}, true)
	if err != nil {
		e.t.Fatalf("set task status: %v", err)
	}
}

func wantEvent(t *testing.T, ev model.TaskStatusEvent, host string, state model.State) {
	t.Helper()
	if ev.Host != host || ev.Status.State != state {
		t.Fatalf("event %s %s, want %s %s", ev.Host, ev.Status.State, host, state)
	}
}

func TestWatchStreamsNewestPerHostThenLiveEvents(t *testing.T) {
	e := newEnv(t)
	id := e.createJob(watchJobJSON)
	e.setStatus("h1", id, model.StateCreating)
	e.setStatus("h1", id, model.StateStarting)
	e.setStatus("h2", id, model.StateCreating)

	s := e.openWatch(e.srv.URL, "/jobs/"+string(id)+"/watch")
	if s.resp.StatusCode != http.StatusOK || s.resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("got %d %q", s.resp.StatusCode, s.resp.Header.Get("Content-Type"))
	}
	wantEvent(t, s.next(t), "h1", model.StateStarting) // h1's CREATING is history, not news
	wantEvent(t, s.next(t), "h2", model.StateCreating)

	e.setStatus("h1", id, model.StateRunning)
	ev := s.next(t)
	wantEvent(t, ev, "h1", model.StateRunning)
	if ev.Timestamp == 0 || ev.Status.Goal != model.GoalStart {
		t.Fatalf("event lacks its fields: %+v", ev)
	}
	// A status written without an event is not a state change of the history.
	if err := e.store.SetTaskStatus(ctxT(t), "h2", id, model.TaskStatus{State: model.StateRunning}, false); err != nil {
		t.Fatal(err)
	}
	e.setStatus("h2", id, model.StateStarting)
	wantEvent(t, s.next(t), "h2", model.StateStarting)
	// Another job's history is not this stream's.
	other := e.createJob(`{"id":"db:1","image":"busybox"}`)
	e.setStatus("h1", other, model.StateRunning)
	s.quiet(t, 300*time.Millisecond)
}

func TestWatchHostFilterAndSince(t *testing.T) {
	e := newEnv(t)
	id := e.createJob(watchJobJSON)
	e.setStatus("h1", id, model.StateCreating)
	e.setStatus("h2", id, model.StateCreating)
	time.Sleep(5 * time.Millisecond)
	since := time.Now().UnixMilli()
	time.Sleep(5 * time.Millisecond)
	e.setStatus("h2", id, model.StateStarting)
	e.setStatus("h2", id, model.StateRunning)
	e.setStatus("h3", id, model.StateCreating)

	s := e.openWatch(e.srv.URL, "/jobs/"+string(id)+"/watch?host=h2&host=h3")
	wantEvent(t, s.next(t), "h2", model.StateRunning)
	wantEvent(t, s.next(t), "h3", model.StateCreating)
	e.setStatus("h1", id, model.StateRunning)
	e.setStatus("h3", id, model.StateStarting)
	wantEvent(t, s.next(t), "h3", model.StateStarting) // h1's RUNNING was filtered out

	// since: every event from then on, not only the newest.
	s = e.openWatch(e.srv.URL, "/jobs/"+string(id)+"/watch?host=h2&since="+itoa(since))
	wantEvent(t, s.next(t), "h2", model.StateStarting)
	wantEvent(t, s.next(t), "h2", model.StateRunning)
	s.quiet(t, 200*time.Millisecond)

	e.expect(e.do("GET", "/jobs/"+string(id)+"/watch?since=yesterday", nil), http.StatusBadRequest, model.StatusBadRequest, nil)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestWatchUnknownJobIs404(t *testing.T) {
	e := newEnv(t)
	e.expect(e.do("GET", "/jobs/nope:1:"+strings.Repeat("a", 40)+"/watch", nil), http.StatusNotFound, model.StatusJobNotFound, nil)
	e.expect(e.do("GET", "/jobs/nope/watch", nil), http.StatusNotFound, model.StatusJobNotFound, nil)
}

// holdingStore holds the first list of every watch until released, so a test can compact
// etcd past the revision the watch is about to start from.
type holdingStore struct {
	*store.Store
	release chan struct{}
	resets  atomic.Int32
}

func (h *holdingStore) WatchJobHistory(ctx context.Context, id model.JobID, onReset, onEvents func([]store.HistoryRecord)) error {
	return h.Store.WatchJobHistory(ctx, id, func(recs []store.HistoryRecord) {
		onReset(recs)
		if h.resets.Add(1) == 1 {
			select {
			case <-h.release:
			case <-ctx.Done():
			}
		}
	}, onEvents)
}

func TestWatchSurvivesCompactionWithoutDuplicates(t *testing.T) {
	hold := &holdingStore{release: make(chan struct{})}
	e := newEnv(t, func(c *Config) {
		hold.Store = c.Store.(*store.Store)
		c.Store = hold
	})
	id := e.createJob(watchJobJSON)
	e.setStatus("h1", id, model.StateCreating)

	s := e.openWatch(e.srv.URL, "/jobs/"+string(id)+"/watch")
	wantEvent(t, s.next(t), "h1", model.StateCreating)
	// While the watch is held: a new event, then its revision compacted away.
	e.setStatus("h1", id, model.StateStarting)
	// One more write, so the compaction covers the revision the watch would start from.
	resp, err := e.cli.Put(ctxT(t), "/unrelated", "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cli.Compact(ctxT(t), resp.Header.Revision); err != nil {
		t.Fatalf("compact: %v", err)
	}
	close(hold.release)
	wantEvent(t, s.next(t), "h1", model.StateStarting) // found by the re-list
	e.setStatus("h1", id, model.StateRunning)
	wantEvent(t, s.next(t), "h1", model.StateRunning)
	s.quiet(t, 300*time.Millisecond) // CREATING is not sent again
	if n := hold.resets.Load(); n < 2 {
		t.Fatalf("the watch listed %d times: the compaction did not make it list again", n)
	}
}

func TestWatchHeartbeatAndClientDisconnect(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.heartbeat = 50 * time.Millisecond })
	id := e.createJob(watchJobJSON)
	s := e.openWatch(e.srv.URL, "/jobs/"+string(id)+"/watch")
	select {
	case l := <-s.lines:
		if l != "" {
			t.Fatalf("first line of a job without history %q, want a heartbeat", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat")
	}
	if v := openStreams(t, e); v != 1 {
		t.Fatalf("open streams %v, want 1", v)
	}
	s.stop()
	// The handler returns (its watch stopped: the gauge drops after that) once the client left.
	waitFor(t, "the handler to return", func() bool { return openStreams(t, e) == 0 })
	// The request is counted, but stays out of the latency histogram.
	body := string(e.do("GET", "/metrics", nil).body)
	if !strings.Contains(body, `helios_master_http_requests_total{code="200",method="GET",route="GET /jobs/{id}/watch"} 1`) {
		t.Fatalf("stream not counted:\n%s", body)
	}
	if strings.Contains(body, `helios_master_http_request_duration_seconds_count{method="GET",route="GET /jobs/{id}/watch"}`) {
		t.Fatal("stream duration observed in the latency histogram")
	}
}

func TestWatchEndsOnServerShutdown(t *testing.T) {
	e := newEnv(t)
	id := e.createJob(watchJobJSON)
	h, err := New(Config{Store: e.store})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	e.setStatus("h1", id, model.StateRunning)
	s := e.openWatch("http://"+l.Addr().String(), "/jobs/"+string(id)+"/watch")
	wantEvent(t, s.next(t), "h1", model.StateRunning)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown waited for the stream: %v", err)
	}
	select {
	case _, ok := <-s.lines:
		if ok {
			t.Fatal("stream still sending after shutdown")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("stream not ended by the shutdown")
	}
}

// openStreams reads the helios_master_watch_streams gauge.
func openStreams(t *testing.T, e *env) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "helios_master_watch_streams" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no helios_master_watch_streams metric")
	return 0
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
