package store

import (
	"context"
	"fmt"
	"math"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
)

// Bounds of the pause between failed attempts to get a lease, and how long the revocation
// at the end may take.
const (
	leaseBackoffMin = 200 * time.Millisecond
	leaseBackoffMax = 5 * time.Second
	revokeTimeout   = 2 * time.Second
)

// KeepLeased keeps a lease of ttl (whole seconds, at least one) alive until ctx ends. For
// each lease it calls attach to write everything bound to it (an up key, a master entry,
// DNS records). An expired lease cannot be revived, so when the session ends (etcd was
// unreachable longer than ttl, or someone revoked the lease) it takes a new lease and calls
// attach again, backing off while etcd cannot be reached. When ctx is done it revokes the
// lease, so bound keys vanish at once rather than after ttl, and returns ctx.Err().
func (s *Store) KeepLeased(ctx context.Context, ttl time.Duration, log *zap.Logger, attach func(ctx context.Context, lease LeaseID) error) error {
	cli := s.cli
	if log == nil {
		log = zap.NewNop()
	}
	secs := max(1, int64(math.Ceil(ttl.Seconds())))
	backoff := leaseBackoffMin
	for {
		sess, err := newSession(ctx, cli, secs)
		if err == nil {
			if err = attach(ctx, LeaseID(sess.Lease())); err != nil {
				err = fmt.Errorf("attach to lease %x: %w", int64(sess.Lease()), err)
			}
			if err == nil {
				backoff = leaseBackoffMin
				log.Debug("lease attached", zap.String("lease-id", fmt.Sprintf("%x", int64(sess.Lease()))), zap.Int64("ttl-seconds", secs))
				select {
				case <-sess.Done():
					log.Warn("lease lost, taking a new one", zap.String("lease-id", fmt.Sprintf("%x", int64(sess.Lease()))))
					continue
				case <-ctx.Done():
				}
			}
			sess.Orphan()
			revoke(ctx, cli, sess.Lease(), log)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn("cannot keep a lease, retrying", zap.Duration("backoff", backoff), zap.Error(err))
		if !sleep(ctx, backoff) {
			return ctx.Err()
		}
		backoff = min(2*backoff, leaseBackoffMax)
	}
}

// newSession grants the lease itself, under a deadline, because concurrency.NewSession
// would wait for an unreachable etcd as long as ctx lives.
func newSession(ctx context.Context, cli *clientv3.Client, secs int64) (*concurrency.Session, error) {
	gctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
	defer cancel()
	resp, err := cli.Grant(gctx, secs)
	if err != nil {
		return nil, fmt.Errorf("grant lease: %w", etcdError(ctx, "grant", err))
	}
	sess, err := concurrency.NewSession(cli, concurrency.WithLease(resp.ID), concurrency.WithTTL(int(secs)), concurrency.WithContext(ctx))
	if err != nil {
		revoke(ctx, cli, resp.ID, zap.NewNop())
		return nil, fmt.Errorf("keep lease alive: %w", err)
	}
	return sess, nil
}

// revoke ends a lease we no longer keep, even when ctx is already done; failing is only
// slower: the lease expires on its own.
func revoke(ctx context.Context, cli *clientv3.Client, id clientv3.LeaseID, log *zap.Logger) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	if _, err := cli.Revoke(rctx, id); err != nil {
		log.Info("cannot revoke lease, it will expire", zap.String("lease-id", fmt.Sprintf("%x", int64(id))), zap.Error(err))
	}
}

// LeaseID names an etcd lease, so callers outside store need not import the etcd client.
type LeaseID int64
