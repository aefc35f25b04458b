package store

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// metrics counts etcd calls; nil when no Registerer was given (every method is nil-safe).
type metrics struct {
	errors   *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, log *zap.Logger) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_store_etcd_errors_total",
			Help: "etcd requests that failed, by store operation.",
		}, []string{"op"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "helios_store_etcd_request_duration_seconds",
			Help:    "Duration of etcd requests, by store operation.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op"}),
	}
	m.errors = register(reg, m.errors, log)
	m.duration = register(reg, m.duration, log)
	return m
}

// register adopts an identical collector already registered (two stores on one registry,
// e.g. master and agent in helios-solo) instead of failing.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, log *zap.Logger) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		log.Warn("cannot register store metrics", zap.Error(err))
	}
	return c
}

func (m *metrics) observe(op string, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(op).Observe(d.Seconds())
	// The error count of an operation exists, at zero, from its first call, so that an
	// error ratio can be computed (and alerted on) before the first error.
	errs := m.errors.WithLabelValues(op)
	if err != nil {
		errs.Inc()
	}
}

// failed counts an error of a long-running request (a watch), which has no duration.
func (m *metrics) failed(op string) {
	if m == nil {
		return
	}
	m.errors.WithLabelValues(op).Inc()
}
