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

// WatchFrom restarts the mirror's endpoint watch at rev, as if it had fallen that far
// behind: it lets the tests make the watch meet etcd's compaction.
func (m *DNSMirror) WatchFrom(ctx context.Context, rev int64) {
	m.Close()
	m.mu.Lock()
	gen := m.gen
	m.mu.Unlock()
	wctx, cancel := context.WithCancel(ctx)
	m.stopWatch, m.watchDone = cancel, make(chan struct{})
	go func() {
		defer close(m.watchDone)
		m.follow(wctx, gen, rev)
	}()
}
