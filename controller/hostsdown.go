package controller

import (
	"context"
	"errors"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// recordHostsDown is the leader loop that notes when each host went DOWN, which the
// lease-bound up key cannot tell once it is gone: `helios hosts` shows "Down 3 hours" from
// it, and the dead-agent reaper will act on it. Deletions are watched as they happen; a
// periodic sweep catches hosts that went down while no leader watched.
//
// With reapAfter > 0 the sweep also deregisters hosts that have been down longer than that
// (the original's --agent-reaping-timeout): their deployments, statuses and history go,
// so a decommissioned machine does not linger in `helios hosts` forever.
func recordHostsDown(st *store.Store, sweepEvery, reapAfter time.Duration, log *zap.Logger) LeaderLoop {
	return func(ctx context.Context, l *store.Leadership) error {
		mark := func(host string, at time.Time) {
			wrote, err := st.MarkHostDown(ctx, l, host, at)
			switch {
			case errors.Is(err, store.ErrNotLeader) || ctx.Err() != nil:
			case err != nil:
				log.Warn("record host down", zap.String("host", host), zap.Error(err))
			case wrote:
				log.Info("host went down", zap.String("host", host))
			}
		}
		sweep := func() {
			hosts, err := st.HostsWithoutRecord(ctx)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("sweep for down hosts", zap.Error(err))
				}
				return
			}
			now := time.Now()
			for _, h := range hosts {
				mark(h, now)
			}
			if reapAfter > 0 {
				reapDeadHosts(ctx, st, l, now.Add(-reapAfter), log)
			}
		}
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			_ = st.WatchHostsGoingDown(ctx, func(h string) { mark(h, time.Now()) }) //nolint:errcheck // ends with ctx
		}()
		defer func() { <-watched }()
		sweep()
		t := time.NewTicker(sweepEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				sweep()
			}
		}
	}
}

// reapDeadHosts deregisters every host recorded down before cutoff. It checks each host
// again just before, so one whose agent came back in the meantime is kept.
func reapDeadHosts(ctx context.Context, st *store.Store, l *store.Leadership, cutoff time.Time, log *zap.Logger) {
	down, err := st.HostsDownSince(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("list hosts down", zap.Error(err))
		}
		return
	}
	for host, since := range down {
		if !since.Before(cutoff) {
			continue
		}
		hs, err := st.HostStatus(ctx, host)
		if err != nil || hs.Status != model.HostDown || hs.DownSince != since.UnixMilli() {
			continue
		}
		if err := st.ReapHost(ctx, l, host); err != nil && !errors.Is(err, store.ErrHostNotFound) {
			log.Warn("deregister dead host", zap.String("host", host), zap.Error(err))
			continue
		}
		log.Info("deregistered a host down for too long", zap.String("host", host), zap.Time("down-since", since))
	}
}
