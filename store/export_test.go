package store

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// PutKeysGuarded writes n keys under prefix as one guarded change, fenced by l when l is
// not nil: it lets the tests probe the transaction size limit.
func (s *Store) PutKeysGuarded(ctx context.Context, l *Leadership, prefix string, n int) error {
	return s.guarded(ctx, "put-keys", l, func(context.Context) (*change, error) {
		c := &change{}
		for i := range n {
			c.ops = append(c.ops, clientv3.OpPut(fmt.Sprintf("%s%04d", prefix, i), "x"))
		}
		return c, nil
	})
}
