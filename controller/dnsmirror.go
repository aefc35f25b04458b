package controller

import (
	"context"
	"errors"
	"time"

	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// dnsMetrics are the DNS mirror's (docs/discovery.md).
type dnsMetrics struct {
	writes    *prometheus.CounterVec
	lag       *prometheus.HistogramVec
	fullReads *prometheus.CounterVec
}

// Label values of the mirror's metrics: ok, or error (the pass failed; it runs again at the
// next change, after a short pause, or at the resync).
const (
	mirrorOK    = "ok"
	mirrorError = "error"
)

func newDNSMetrics(reg prometheus.Registerer) *dnsMetrics {
	m := &dnsMetrics{
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_dns_mirror_writes_total",
			Help: "SkyDNS records the leader's DNS mirror put or deleted (result ok), and mirror passes that failed (result error).",
		}, []string{"result"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "helios_dns_mirror_lag_seconds",
			Help:    "Time from a change of the published endpoints (or a resync) waking the DNS mirror to the end of the pass that applied it, by result.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1 ms .. 65 s
		}, []string{"result"}),
		fullReads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_dns_mirror_full_reads_total",
			Help: "DNS mirror passes that read every endpoint and record instead of following the endpoint watch, by reason (start, interval, compacted, error).",
		}, []string{"reason"}),
	}
	for _, r := range []string{mirrorOK, mirrorError} {
		m.writes.WithLabelValues(r)
		m.lag.WithLabelValues(r)
	}
	for _, r := range store.FullReadReasons() {
		m.fullReads.WithLabelValues(r)
	}
	reg.MustRegister(m.writes, m.lag, m.fullReads)
	return m
}

// DNSConfig is what the leader's DNS mirror needs.
type DNSConfig struct {
	SkyDNSPath     string        // where CoreDNS's etcd plugin reads (default /skydns)
	TTL            time.Duration // the records' DNS TTL (default 5s)
	ResyncInterval time.Duration // a full read at least this often (default 30s)
}

// mirrorRetryPause is the longest wait before a failed pass runs again (shorter when the
// resync interval is).
const mirrorRetryPause = time.Second

// mirrorDNS is the leader loop that keeps the SkyDNS records of agents' endpoints and live
// masters in step with what is published (store.DNSMirror): one full read at the start of
// the term, then passes fed by the mirror's watch of the endpoint keys and woken by it or
// by a change of the masters, and a full read again every resync interval (which catches
// records changed by hand) or when the watch lost its place. Its records carry no lease,
// so a leaderless cluster keeps serving the last records.
func mirrorDNS(st *store.Store, cfg DNSConfig, log *zap.Logger, m *dnsMetrics) LeaderLoop {
	return func(ctx context.Context, l *store.Leadership) error {
		mirror := st.NewDNSMirror(cfg.SkyDNSPath, cfg.TTL)
		defer mirror.Close()
		masters := st.PokeMasters(ctx)
		t := time.NewTicker(cfg.ResyncInterval)
		defer t.Stop()
		woke := time.Now()
		for {
			var retry <-chan time.Time
			res, err := mirror.Pass(ctx, l)
			if res.FullRead != "" {
				m.fullReads.WithLabelValues(res.FullRead).Inc()
			}
			switch {
			case ctx.Err() != nil || errors.Is(err, store.ErrNotLeader):
				return ctx.Err() // the term is over
			case err != nil:
				m.writes.WithLabelValues(mirrorError).Inc()
				m.lag.WithLabelValues(mirrorError).Observe(time.Since(woke).Seconds())
				log.Warn("mirror DNS records", zap.Error(err))
				retry = time.After(min(mirrorRetryPause, cfg.ResyncInterval))
			default:
				m.writes.WithLabelValues(mirrorOK).Add(float64(res.Puts + res.Deletes))
				m.lag.WithLabelValues(mirrorOK).Observe(time.Since(woke).Seconds())
				if res.Puts+res.Deletes > 0 {
					log.Info("DNS records mirrored", zap.Int("records-put", res.Puts), zap.Int("records-deleted", res.Deletes),
						zap.String("full-read", res.FullRead))
				}
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case _, ok := <-masters:
				if !ok {
					return ctx.Err()
				}
			case <-mirror.Changed():
			case <-retry:
			case <-t.C:
				mirror.Resync()
			}
			woke = time.Now()
		}
	}
}
