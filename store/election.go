package store

import (
	"context"
	"fmt"
	"math"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
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
		sess.Close()
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
// lease to expire.
func (l *Leadership) Resign(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	err := l.election.Resign(ctx)
	l.session.Close()
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
