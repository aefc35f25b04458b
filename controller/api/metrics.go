package api

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the API. Labels are bounded: route is a registered mux pattern or "other",
// method one of HTTP's, code a status code.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	streams  prometheus.Gauge
	// streamsRefused counts watch streams refused by the limits.
	streamsRefused prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_master_http_requests_total",
			Help: "HTTP requests answered by the master's API, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "helios_master_http_request_duration_seconds",
			Help:    "Time taken to answer HTTP requests to the master's API, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "helios_master_watch_streams",
			Help: "Watch streams (GET /jobs/{id}/watch, GET /deployment-group/{name}/watch) open now.",
		}),
		streamsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helios_master_watch_streams_refused_total",
			Help: "Watch streams refused (429) because this master's or the client's limit was reached.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.streams, m.streamsRefused} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("api: register metrics: %w", err)
		}
	}
	return m, nil
}

// initRoute creates a route's series at zero, as Prometheus advises, so alert rules see
// them before the first request: the duration histogram and the request count of its
// success code (other codes appear with their first answer: they are not known before).
func (m *metrics) initRoute(route, method string, stream bool) {
	m.requests.WithLabelValues(route, method, "200")
	if !stream {
		m.duration.WithLabelValues(route, method)
	}
}

// observe counts a request and, unless it was a long-lived stream, its duration.
func (m *metrics) observe(route, method string, code int, d time.Duration, stream bool) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	if !stream {
		m.duration.WithLabelValues(route, method).Observe(d.Seconds())
	}
}
