package store

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// EnsureClusterID claims the key root for the Helios cluster named id, or checks that it is
// already claimed by that name. It keeps a master or agent configured for one cluster from
// working on another's keys (a wrong --etcd or --etcd-prefix): the mismatch is refused with
// ErrConflict, naming both clusters.
func (s *Store) EnsureClusterID(ctx context.Context, id string) error {
	if err := ValidName("cluster id", id); err != nil {
		return err
	}
	key := s.keys.ClusterID()
	var resp *clientv3.TxnResponse
	err := s.call(ctx, "cluster-id", func(ctx context.Context) error {
		var err error
		resp, err = s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, id)).
			Else(clientv3.OpGet(key)).
			Commit()
		return err
	})
	if err != nil {
		return err
	}
	if resp.Succeeded {
		return nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 1 && string(kvs[0].Value) == id {
		return nil
	}
	got := ""
	if len(kvs) == 1 {
		got = string(kvs[0].Value)
	}
	return fmt.Errorf("etcd under %s belongs to Helios cluster %q, not %q: %w", s.keys.Root(), got, id, ErrConflict)
}
