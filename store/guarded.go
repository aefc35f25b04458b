package store

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// change is one attempt at a guarded write: the compares that hold what the attempt read,
// and the writes to make if they still hold.
type change struct {
	cmps []clientv3.Cmp
	ops  []clientv3.Op
}

// guarded is the one compare-and-retry loop of the store. attempt reads what it needs,
// decides, and returns the change to commit, nil when there is nothing to write, or an
// error that refuses the request (nothing is written then). When the compares fail another
// writer changed what was read, so attempt runs again on fresh reads, at most casAttempts
// times before ErrConflict.
//
// With a leadership l the change is fenced: it commits only while l is still the
// controller's term, and a lost term ends the loop with ErrNotLeader (not an etcd error:
// it is neither counted as one nor wrapped as one).
func (s *Store) guarded(ctx context.Context, op string, l *Leadership, attempt func(ctx context.Context) (*change, error)) error {
	for range casAttempts {
		c, err := attempt(ctx)
		if err != nil || c == nil {
			return err
		}
		s.stampGenerations(op, c)
		if limit := txnLimit(l); len(c.ops) > limit || len(c.cmps) > limit {
			return fmt.Errorf("%s: %d writes and %d compares do not fit one etcd transaction (%d)", op, len(c.ops), len(c.cmps), limit)
		}
		ok, err := s.commit(ctx, op, l, c)
		if err != nil || ok {
			return err
		}
	}
	return fmt.Errorf("%s: still contended after %d attempts: %w", op, casAttempts, ErrConflict)
}

// txnLimit is how many writes (or compares) one change may hold: etcd's limit, less the
// one operation the fence's outer transaction spends on nesting the change.
func txnLimit(l *Leadership) int {
	if l != nil {
		return maxTxnOps - 1
	}
	return maxTxnOps
}

// commit runs c as one transaction, fenced by l when l is not nil, and tells whether its
// compares held.
func (s *Store) commit(ctx context.Context, op string, l *Leadership, c *change) (bool, error) {
	if l == nil {
		resp, err := s.txn(ctx, op, c.cmps, c.ops)
		if err != nil {
			return false, err
		}
		return resp.Succeeded, nil
	}
	resp, err := s.txn(ctx, op, []clientv3.Cmp{l.fence()}, []clientv3.Op{clientv3.OpTxn(c.cmps, c.ops, nil)})
	if err != nil {
		return false, err
	}
	if !resp.Succeeded {
		return false, fmt.Errorf("%s: %w", op, ErrNotLeader)
	}
	inner := resp.Responses[0].GetResponseTxn()
	if inner == nil {
		return false, errors.New(op + ": etcd sent no inner transaction response")
	}
	return inner.Succeeded, nil
}
