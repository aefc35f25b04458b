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
	writes *prometheus.CounterVec
	lag    *prometheus.HistogramVec
}

// Label values of the mirror's metrics: ok, or error (the pass failed; it runs again at the
// next change or resync).
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
	}
	for _, r := range []string{mirrorOK, mirrorError} {
		m.writes.WithLabelValues(r)
		m.lag.WithLabelValues(r)
	}
	reg.MustRegister(m.writes, m.lag)
	return m
}

// DNSConfig is what the leader's DNS mirror needs.
type DNSConfig struct {
	SkyDNSPath     string        // where CoreDNS's etcd plugin reads (default /skydns)
	TTL            time.Duration // the records' DNS TTL (default 5s)
	ResyncInterval time.Duration // a full pass at least this often (default 30s)
}

// mirrorDNS is the leader loop that keeps the SkyDNS records of agents' endpoints and live
// masters in step with what is published (store.MirrorDNS). Watch events only wake it; each
// pass reads everything again, and a periodic pass catches what a watch missed. Its records
// carry no lease, so a leaderless cluster keeps serving the last records.
func mirrorDNS(st *store.Store, cfg DNSConfig, log *zap.Logger, m *dnsMetrics) LeaderLoop {
	return func(ctx context.Context, l *store.Leadership) error {
		pokes := st.PokeDiscovery(ctx)
		t := time.NewTicker(cfg.ResyncInterval)
		defer t.Stop()
		woke := time.Now()
		for {
			res, err := st.MirrorDNS(ctx, l, cfg.SkyDNSPath, cfg.TTL)
			switch {
			case ctx.Err() != nil || errors.Is(err, store.ErrNotLeader):
				return ctx.Err() // the term is over
			case err != nil:
				m.writes.WithLabelValues(mirrorError).Inc()
				m.lag.WithLabelValues(mirrorError).Observe(time.Since(woke).Seconds())
				log.Warn("mirror DNS records", zap.Error(err))
			default:
				m.writes.WithLabelValues(mirrorOK).Add(float64(res.Puts + res.Deletes))
				m.lag.WithLabelValues(mirrorOK).Observe(time.Since(woke).Seconds())
				if res.Puts+res.Deletes > 0 {
					log.Info("DNS records mirrored", zap.Int("records-put", res.Puts), zap.Int("records-deleted", res.Deletes))
				}
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case _, ok := <-pokes:
				if !ok {
					return ctx.Err()
				}
			case <-t.C:
			}
			woke = time.Now()
		}
	}
}
