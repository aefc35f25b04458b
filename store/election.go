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

// Leadership is this process's term as the controller's leader. Writes made on its behalf
// carry Fence, so once the term is over (its session expired, another master leads) they
// fail instead of racing the new leader.
type Leadership struct {
	session     *concurrency.Session
	key, legacy string // the candidacy, and its copy where older masters look
	rev         int64  // create revision of both
}

// Campaign blocks until candidate leads the controller election, or ctx ends. The term
// lasts while a lease of ttl is kept alive; Done closes when it is lost.
//
// It is concurrency.Election's algorithm (put a key on the session's lease, lead once every
// key created before it is gone), with two keys instead of one, for masters of the previous
// version that may still run during an upgrade (docs/operations.md, "Leader election across
// an upgrade"): the candidacy at ElectionKey and, created in the same transaction, a copy at
// LegacyElectionKey, the only place older masters look. A candidate waits for every older
// key under the whole Election prefix, so it waits behind older masters' keys too.
func (s *Store) Campaign(ctx context.Context, candidate string, ttl time.Duration) (*Leadership, error) {
	if err := ValidName("candidate", candidate); err != nil {
		return nil, err
	}
	sess, err := newSession(ctx, s.cli, max(1, int64(math.Ceil(ttl.Seconds()))))
	if err != nil {
		return nil, err
	}
	lease := sess.Lease()
	// On failure (usually ctx ended: the master is stopping) the lease is revoked with a
	// context of its own, deleting our keys with it; sess.Close would revoke with the
	// cancelled ctx, fail, and leave the keys until the lease expires.
	drop := func() {
		sess.Orphan()
		revoke(ctx, s.cli, lease, zap.NewNop())
	}
	l := &Leadership{session: sess, key: s.keys.ElectionKey(int64(lease)), legacy: s.keys.LegacyElectionKey(int64(lease))}
	resp, err := s.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(l.key), "=", 0)).Then(
		clientv3.OpPut(l.key, candidate, clientv3.WithLease(lease)),
		clientv3.OpPut(l.legacy, candidate, clientv3.WithLease(lease)),
	).Commit()
	switch {
	case err != nil:
		drop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, etcdError(ctx, "campaign", err)
	case !resp.Succeeded:
		drop()
		return nil, fmt.Errorf("campaign: election key %s exists on a new lease", l.key)
	}
	l.rev = resp.Header.Revision
	if err := waitOlderCandidates(ctx, sess, s.keys.Election(), l.rev-1); err != nil {
		drop() // our keys go with the lease
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, etcdError(ctx, "campaign", err)
	}
	return l, nil
}

// waitOlderCandidates returns once no key under prefix was created at or before maxRev,
// watching the newest such key until it is deleted, then looking again (as etcd's own
// concurrency.waitDeletes). It fails when the session ends meanwhile: our candidacy went
// with it.
func waitOlderCandidates(ctx context.Context, sess *concurrency.Session, prefix string, maxRev int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	cli := sess.Client()
	for {
		resp, err := cli.Get(ctx, prefix, append(clientv3.WithLastCreate(), clientv3.WithMaxCreateRev(maxRev))...)
		if err != nil {
			return sessionErr(sess, err)
		}
		if len(resp.Kvs) == 0 {
			return nil
		}
		older := string(resp.Kvs[0].Key)
		wctx, stopWatch := context.WithCancel(ownWatchStream(clientv3.WithRequireLeader(ctx)))
		wch := cli.Watch(wctx, older, clientv3.WithRev(resp.Header.Revision+1))
	watch:
		for wr := range wch {
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypeDelete {
					break watch
				}
			}
			if wr.Err() != nil {
				break // lost leader, compaction: look again
			}
		}
		stopWatch() // its stream goes with it
		if ctx.Err() != nil {
			return sessionErr(sess, ctx.Err())
		}
	}
}

// sessionErr says that the lease was lost when that is why waiting stopped.
func sessionErr(sess *concurrency.Session, err error) error {
	select {
	case <-sess.Done():
		return fmt.Errorf("leader lease lost while waiting for older candidates: %w", err)
	default:
		return err
	}
}

// Done closes when the term ends: the lease was lost or Resign was called.
func (l *Leadership) Done() <-chan struct{} { return l.session.Done() }

// fence is the compare every leader write carries: the leader's election key is still the
// one it created when it won.
func (l *Leadership) fence() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(l.key), "=", l.rev)
}

// Resign ends the term at once, so another candidate can lead without waiting for the
// lease to expire. It works after ctx is cancelled (a stopping master resigns then), and
// ends the term's lease too, as session.Close would only with a live context.
func (l *Leadership) Resign(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	_, err := l.session.Client().Txn(rctx).If(l.fence()).Then(clientv3.OpDelete(l.key), clientv3.OpDelete(l.legacy)).Commit()
	l.session.Orphan()
	revoke(ctx, l.session.Client(), l.session.Lease(), zap.NewNop())
	return err
}

// Leader is the name of the controller's current leader; ErrNotFound when none leads. The
// oldest key under the whole prefix leads, be it a candidacy of this version or of an older
// master (docs/operations.md).
func (s *Store) Leader(ctx context.Context) (string, error) {
	resp, err := s.get(ctx, "leader", s.keys.Election(), clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err != nil {
		return "", err
	}
	if len(resp.Kvs) == 0 {
		return "", fmt.Errorf("controller leader: %w", ErrNotFound)
	}
	return string(resp.Kvs[0].Value), nil
}

// Candidates are the names in the controller election, the leader first: every running
// master campaigns, so a master that stopped cleanly is no longer among them.
func (s *Store) Candidates(ctx context.Context) ([]string, error) {
	resp, err := s.get(ctx, "candidates", s.keys.Election(), clientv3.WithPrefix(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Value))
	}
	return out, nil
}
