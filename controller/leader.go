package controller

import (
	"context"
	"errors"
	"time"

	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// LeaderLoop is work only the elected leader does. It runs until ctx ends (the term is over
// or the master stops); every write it makes is fenced with the leadership.
type LeaderLoop func(ctx context.Context, l *store.Leadership) error

// campaign keeps this master in the controller election for as long as ctx lives: each time
// it wins it runs loops until the term ends, then campaigns again.
// leading is set to 1 for the length of each term, so exactly one master reports 1.
func campaign(ctx context.Context, st *store.Store, name string, ttl time.Duration, log *zap.Logger, leading prometheus.Gauge, loops ...LeaderLoop) error {
	backoff := 200 * time.Millisecond
	for ctx.Err() == nil {
		l, err := st.Campaign(ctx, name, ttl)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			log.Warn("campaign for controller leadership", zap.Duration("backoff", backoff), zap.Error(err))
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 200 * time.Millisecond
		log.Info("leading the controller")
		leading.Set(1)
		termCtx, end := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			select {
			case <-l.Done():
			case <-termCtx.Done():
			}
			// The term is over the moment the lease is lost, even while the loops are
			// still winding down (their fenced writes fail from now on).
			leading.Set(0)
			end()
		}()
		g, gctx := errgroup.WithContext(termCtx)
		for _, loop := range loops {
			g.Go(func() error { return loop(gctx, l) })
		}
		err = g.Wait()
		end()
		<-watched
		if ctx.Err() != nil {
			// Stopping: hand leadership over now rather than after the lease's TTL.
			_ = l.Resign(context.Background()) //nolint:errcheck // best effort; the lease expires anyway
			break
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("leader loop failed; campaigning again", zap.Error(err))
			_ = l.Resign(context.Background()) //nolint:errcheck // best effort
		} else {
			log.Warn("lost controller leadership")
		}
	}
	return nil
}
