package store

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
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
	var kvs []*mvccpb.KeyValue
	switch {
	case errors.Is(err, ErrPermissionDenied):
		// An agent's etcd user may read the key but not create it: check only.
		if kvs, err = s.readOnly(ctx, "cluster-id", key); err != nil {
			return err
		}
		if len(kvs) == 0 {
			// Not a mismatch: unknown yet. Callers treat it as they treat an outage.
			return fmt.Errorf("%s is not set and this etcd user may not set it (a master started with --cluster-id %s does): %w", key, id, ErrUnavailable)
		}
	case err != nil:
		return err
	case resp.Succeeded:
		return nil
	default:
		kvs = resp.Responses[0].GetResponseRange().Kvs
	}
	if len(kvs) == 1 && string(kvs[0].Value) == id {
		return nil
	}
	got := ""
	if len(kvs) == 1 {
		got = string(kvs[0].Value)
	}
	return fmt.Errorf("etcd under %s belongs to Helios cluster %q, not %q: %w", s.keys.Root(), got, id, ErrConflict)
}

// EnsureClusterUID returns the random id of this key root (ClusterUID), creating it as
// proposed when there is none yet (create-only, so concurrent first agents agree on one).
// It is not the --cluster-id name: that one is optional and chosen by people, so two
// clusters may carry the same name (or none); this one is unique per key root and never
// changes once written.
func (s *Store) EnsureClusterUID(ctx context.Context, proposed string) (string, error) {
	if err := ValidName("cluster uid", proposed); err != nil {
		return "", err
	}
	key := s.keys.ClusterUID()
	var resp *clientv3.TxnResponse
	err := s.call(ctx, "cluster-uid", func(ctx context.Context) error {
		var err error
		resp, err = s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, proposed)).
			Else(clientv3.OpGet(key)).
			Commit()
		return err
	})
	var kvs []*mvccpb.KeyValue
	switch {
	case errors.Is(err, ErrPermissionDenied):
		// An agent's etcd user may read the key but not create it: the leader creates it
		// (controller's maintainKeys). Until then the caller retries as during an outage.
		if kvs, err = s.readOnly(ctx, "cluster-uid", key); err != nil {
			return "", err
		}
		if len(kvs) == 0 {
			return "", fmt.Errorf("%s does not exist yet and this etcd user may not create it; the masters' leader creates it: %w", key, ErrUnavailable)
		}
	case err != nil:
		return "", err
	case resp.Succeeded:
		return proposed, nil
	default:
		kvs = resp.Responses[0].GetResponseRange().Kvs
	}
	if len(kvs) != 1 || len(kvs[0].Value) == 0 {
		return "", fmt.Errorf("%s is empty: %w", key, ErrConflict)
	}
	return string(kvs[0].Value), nil
}

// readOnly reads one key, for the checks a process without write permission makes instead.
func (s *Store) readOnly(ctx context.Context, op, key string) ([]*mvccpb.KeyValue, error) {
	resp, err := s.get(ctx, op, key)
	if err != nil {
		return nil, err
	}
	return resp.Kvs, nil
}
