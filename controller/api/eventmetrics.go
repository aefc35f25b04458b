package api

import (
	"github.com/helios-go/helios/model"
	"github.com/prometheus/client_golang/prometheus"
)

// Label values of helios_master_event_stream_resumes_total{outcome}: where a GET /events
// with fromRevision got its past events.
const (
	resumeBuffer    = "buffer"    // the master's buffer still held them
	resumeWatch     = "watch"     // older than the buffer: a watch of the stream's own
	resumeCompacted = "compacted" // etcd no longer keeps them: 410
)

// eventMetrics are the cluster event stream's (docs/events.md). Event types and resume
// outcomes are fixed sets, so every label set exists at zero from the start.
type eventMetrics struct {
	streams  prometheus.Gauge
	sent     *prometheus.CounterVec
	sentBy   map[model.ClusterEventType]prometheus.Counter // sent's children, looked up once
	slowCuts prometheus.Counter
	resumes  *prometheus.CounterVec
	buffered prometheus.Gauge
	revision prometheus.Gauge
	resets   prometheus.Counter
}

func newEventMetrics() *eventMetrics {
	m := &eventMetrics{
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "helios_master_event_streams",
			Help: "GET /events streams open now on this master.",
		}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_master_events_sent_total",
			Help: "Cluster events written to GET /events streams, by event type (a STREAM_* type is a stream's last line).",
		}, []string{"type"}),
		sentBy: map[model.ClusterEventType]prometheus.Counter{},
		slowCuts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helios_master_event_streams_cut_total",
			Help: "GET /events streams cut off (STREAM_CUT) because their client did not keep up.",
		}),
		resumes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_master_event_stream_resumes_total",
			Help: "GET /events with fromRevision, by outcome: buffer (served from the master's buffer), watch (older: a watch of its own), compacted (410).",
		}, []string{"outcome"}),
		buffered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "helios_master_event_buffer_events",
			Help: "Events the master keeps for clients resuming from a revision (at most --event-buffer).",
		}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "helios_master_event_watch_revision",
			Help: "The etcd revision the master's shared event watch has reached.",
		}),
		resets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helios_master_event_watch_resets_total",
			Help: "Times the master's shared event watch fell behind etcd's compaction and ended every stream with STREAM_RESET.",
		}),
	}
	for _, t := range model.ClusterEventTypes() {
		m.sentBy[t] = m.sent.WithLabelValues(string(t))
	}
	for _, o := range []string{resumeBuffer, resumeWatch, resumeCompacted} {
		m.resumes.WithLabelValues(o)
	}
	return m
}

// collectors is what the API registers.
func (m *eventMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.streams, m.sent, m.slowCuts, m.resumes, m.buffered, m.revision, m.resets}
}

// countSent counts events written to a stream.
func (m *eventMetrics) countSent(types []model.ClusterEventType) {
	for _, t := range types {
		c, ok := m.sentBy[t]
		if !ok { // a type this list does not know yet: still bounded, model's enum
			c = m.sent.WithLabelValues(string(t))
		}
		c.Inc()
	}
}
