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
	session  *concurrency.Session
	election *concurrency.Election
	key      string
	rev      int64
}

// Campaign blocks until candidate leads the controller election, or ctx ends. The term
// lasts while a lease of ttl is kept alive; Done closes when it is lost.
func (s *Store) Campaign(ctx context.Context, candidate string, ttl time.Duration) (*Leadership, error) {
	if err := ValidName("candidate", candidate); err != nil {
		return nil, err
	}
	sess, err := newSession(ctx, s.cli, max(1, int64(math.Ceil(ttl.Seconds()))))
	if err != nil {
		return nil, err
	}
	e := concurrency.NewElection(sess, s.keys.Election())
	if err := e.Campaign(ctx, candidate); err != nil {
		// Usually ctx ended: the master is stopping. Revoking the lease deletes the
		// candidate's key with it; sess.Close would revoke with the cancelled ctx, fail,
		// and leave the key until the lease expires.
		sess.Orphan()
		revoke(ctx, s.cli, sess.Lease(), zap.NewNop())
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, etcdError(ctx, "campaign", err)
	}
	return &Leadership{session: sess, election: e, key: e.Key(), rev: e.Rev()}, nil
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
	err := l.election.Resign(rctx)
	l.session.Orphan()
	revoke(ctx, l.session.Client(), l.session.Lease(), zap.NewNop())
	return err
}

// Leader is the name of the controller's current leader; ErrNotFound when none leads.
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
