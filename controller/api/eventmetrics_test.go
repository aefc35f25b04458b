package api

import (
	"net/http"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestEventStreamMetricsFollowStreamsAndEvents(t *testing.T) {
	var hub *Events
	e := newEnv(t, withEvents(t, 3, 0, &hub))
	registered := hub.m.sent.WithLabelValues(string(model.EventHostRegistered))
	s := e.openWatch(e.srv.URL, "/events")
	if s.resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /events: %d", s.resp.StatusCode)
	}
	waitFor(t, "the stream to be counted open", func() bool { return testutil.ToFloat64(hub.m.streams) == 1 })

	e.registerHosts(1, 5)
	evs := s.events(t, 5)
	// Counted once written, which the client may see a moment before the count moves.
	waitFor(t, "5 HOST_REGISTERED counted sent", func() bool { return testutil.ToFloat64(registered) == 5 })
	if got := testutil.ToFloat64(hub.m.sent.WithLabelValues(string(model.EventJobCreated))); got != 0 {
		t.Fatalf("JOB_CREATED sent = %v, want 0", got)
	}
	// The buffer holds its bound (3) of the 5, and the watch reached the last event's revision.
	if got := testutil.ToFloat64(hub.m.buffered); got != 3 {
		t.Fatalf("helios_master_event_buffer_events = %v, want 3", got)
	}
	if got, want := testutil.ToFloat64(hub.m.revision), float64(evs[4].Revision); got < want {
		t.Fatalf("helios_master_event_watch_revision = %v, want at least %v", got, want)
	}

	s.stop()
	waitFor(t, "the closed stream to be uncounted", func() bool { return testutil.ToFloat64(hub.m.streams) == 0 })

	// The API registered them, every label set at zero from the start.
	if n, err := testutil.GatherAndCount(e.reg, "helios_master_events_sent_total"); err != nil || n != len(model.ClusterEventTypes()) {
		t.Fatalf("helios_master_events_sent_total series = %d, %v; want one per event type (%d)", n, err, len(model.ClusterEventTypes()))
	}
	for name, want := range map[string]int{"helios_master_event_streams": 1, "helios_master_event_streams_cut_total": 1,
		"helios_master_event_stream_resumes_total": 3, "helios_master_event_buffer_events": 1,
		"helios_master_event_watch_revision": 1, "helios_master_event_watch_resets_total": 1} {
		if n, err := testutil.GatherAndCount(e.reg, name); err != nil || n != want {
			t.Errorf("%s: %d series, %v; want %d", name, n, err, want)
		}
	}
}
