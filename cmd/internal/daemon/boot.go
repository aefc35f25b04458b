package daemon

import (
	"context"
	"errors"

	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus"
	ucli "github.com/urfave/cli/v2"
	"go.uber.org/zap"
)

// Base is what every daemon starts from: its logger, its metrics registry and its store.
type Base struct {
	Log      *zap.Logger
	Registry *prometheus.Registry
	Store    *store.Store
}

// EndpointsFunc finds the etcd to use; stop releases whatever it started.
type EndpointsFunc func(ctx context.Context, c *ucli.Context, log *zap.Logger) (endpoints []string, stop func(), err error)

// Boot builds the logger and registry from the common flags, finds etcd with endpoints and
// connects the store. close releases everything in reverse order and logs "stopped", the
// daemon's last log line.
func Boot(ctx context.Context, c *ucli.Context, endpoints EndpointsFunc) (b *Base, close func(), err error) {
	log, err := NewLogger(c.String("log-level"), c.Bool("log-console"))
	if err != nil {
		return nil, nil, err
	}
	var closers []func()
	close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		log.Info("stopped")
		_ = log.Sync() //nolint:errcheck // nothing to do about a failed flush at exit
	}
	reg := NewRegistry()
	eps, stopEtcd, err := endpoints(ctx, c, log)
	if err != nil {
		close()
		return nil, nil, err
	}
	closers = append(closers, stopEtcd)
	st, closeStore, err := ConnectStore(ctx, c, eps, log, reg)
	if err != nil {
		close()
		return nil, nil, err
	}
	closers = append(closers, closeStore)
	if id := c.String("cluster-id"); id != "" {
		switch err := st.EnsureClusterID(ctx, id); {
		case errors.Is(err, store.ErrUnavailable):
			// An agent must start during an etcd outage; the check is only a safeguard.
			log.Warn("cannot check the cluster id now: etcd unavailable", zap.String("cluster-id", id), zap.Error(err))
		case err != nil:
			close()
			return nil, nil, err
		}
	}
	return &Base{Log: log, Registry: reg, Store: st}, close, nil
}
