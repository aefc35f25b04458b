package controller

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// maintainKeys is the leader loop that brings etcd's keys to this version's layout once per
// term, then rests until the term ends:
//   - with etcd authentication on, it creates the cluster uid (config/cluster-uid) when no
//     agent did: agents may then only read it;
//   - it moves history from the legacy layout to the per-host one (store.MigrateHistory).
//     Older agents still running keep writing the legacy layout, which readers merge in;
//     the next term's run moves that too.
//
// Each step is retried with a backoff until it succeeds or the term ends; the migration is
// fenced, and a term that ends midway leaves the rest to the next leader.
func maintainKeys(st *store.Store, log *zap.Logger) LeaderLoop {
	return func(ctx context.Context, l *store.Leadership) error {
		uid := func() error {
			// Without etcd authentication the first agent creates it, proposing the id its
			// state dir remembers (which puts the same id back after etcd lost it).
			if on, err := st.AuthEnabled(ctx); err != nil || !on {
				return err
			}
			b := make([]byte, 16)
			_, _ = rand.Read(b) // crypto/rand never fails on Linux
			_, err := st.EnsureClusterUID(ctx, hex.EncodeToString(b))
			return err
		}
		migrate := func() error {
			n, err := st.MigrateHistory(ctx, l)
			if n > 0 {
				log.Info("moved history to the per-host layout", zap.Int("keys", n))
			}
			return err
		}
		for _, step := range []struct {
			what string
			fn   func() error
		}{{"create cluster uid", uid}, {"migrate history", migrate}} {
			backoff := 200 * time.Millisecond
			for {
				err := step.fn()
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				log.Warn(step.what+"; retrying", zap.Duration("backoff", backoff), zap.Error(err))
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 10*time.Second)
			}
		}
		<-ctx.Done()
		return ctx.Err()
	}
}
