package store

import (
	"context"
	"strings"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// migrateBatch is how many legacy keys one transaction moves: two operations each (the
// put in the per-host layout and the delete) and one compare each, within the maxTxnOps-1
// etcd leaves a transaction nested in the leader's fence.
const migrateBatch = (maxTxnOps - 1) / 2

// MigrateHistory moves every key of the legacy history layout
// (history/jobs/<id>/<host>/<ts>) to the per-host layout (history/hosts/<host>/jobs/<id>/<ts>)
// for the controller's leader, and returns how many it moved. Each transaction moves up to
// migrateBatch keys, fenced by l and guarded by each moved key being unchanged since it was
// read, so an older agent trimming its legacy history meanwhile only makes the batch read
// again. A move is a put and a delete in one transaction: a leader change midway leaves
// every key in exactly one layout, and the next leader's run picks up what is left. Running
// it again is harmless: it finds nothing, or what older agents wrote since. A key of
// another shape cannot be placed and is deleted (it is under Helios's own prefix).
func (s *Store) MigrateHistory(ctx context.Context, l *Leadership) (int, error) {
	prefix := s.keys.LegacyHistories()
	moved := 0
	for {
		n := 0
		err := s.guarded(ctx, "migrate-history", l, func(ctx context.Context) (*change, error) {
			resp, err := s.get(ctx, "migrate-history", prefix, clientv3.WithPrefix(), clientv3.WithLimit(migrateBatch))
			if err != nil {
				return nil, err
			}
			n = len(resp.Kvs)
			if n == 0 {
				return nil, nil
			}
			c := &change{}
			for _, kv := range resp.Kvs {
				key := string(kv.Key)
				c.cmps = append(c.cmps, clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision))
				c.ops = append(c.ops, clientv3.OpDelete(key))
				if to, ok := s.migratedKey(key); ok {
					c.ops = append(c.ops, clientv3.OpPut(to, string(kv.Value)))
				} else {
					s.log.Warn("deleting a legacy history key of unknown shape", zap.String("key", key))
				}
			}
			return c, nil
		})
		if err != nil {
			return moved, err
		}
		if n == 0 {
			return moved, nil
		}
		moved += n
	}
}

// migratedKey is where the legacy key <LegacyHistories><id>/<host>/<ts> goes.
func (s *Store) migratedKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, s.keys.LegacyHistories())
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", false
	}
	return s.keys.HostHistory(model.JobID(parts[0]), parts[1]) + parts[2], true
}
