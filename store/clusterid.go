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
	kvs, claimed, err := s.claimOnce(ctx, "cluster-id", key, id)
	switch {
	case errors.Is(err, ErrPermissionDenied):
		// Not a mismatch: unknown yet. Callers treat it as they treat an outage.
		return fmt.Errorf("%s is not set and this etcd user may not set it (a master started with --cluster-id %s does): %w", key, id, ErrUnavailable)
	case err != nil:
		return err
	case claimed:
		return nil
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
	kvs, claimed, err := s.claimOnce(ctx, "cluster-uid", key, proposed)
	switch {
	case errors.Is(err, ErrPermissionDenied):
		// An agent's etcd user may read the key but not create it: the leader creates it
		// (controller's maintainKeys). Until then the caller retries as during an outage.
		return "", fmt.Errorf("%s does not exist yet and this etcd user may not create it; the masters' leader creates it: %w", key, ErrUnavailable)
	case err != nil:
		return "", err
	case claimed:
		return proposed, nil
	}
	if len(kvs) != 1 || len(kvs[0].Value) == 0 {
		return "", fmt.Errorf("%s is empty: %w", key, ErrConflict)
	}
	return string(kvs[0].Value), nil
}

// claimOnce returns key's value (kvs), or creates it with value when it does not exist
// (claimed). It reads first: the key is nearly always there already, and an agent's etcd
// user may read it but not write it, so a create-if-absent tried first would be refused
// at every start (and etcd's client logs each refusal as a warning). A key still absent
// that this user may not create answers ErrPermissionDenied.
func (s *Store) claimOnce(ctx context.Context, op, key, value string) (kvs []*mvccpb.KeyValue, claimed bool, err error) {
	resp, err := s.get(ctx, op, key)
	if err != nil {
		return nil, false, err
	}
	if len(resp.Kvs) > 0 {
		return resp.Kvs, false, nil
	}
	var txn *clientv3.TxnResponse
	err = s.call(ctx, op, func(ctx context.Context) error {
		var err error
		txn, err = s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, value)).
			Else(clientv3.OpGet(key)).
			Commit()
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if txn.Succeeded {
		return nil, true, nil
	}
	return txn.Responses[0].GetResponseRange().Kvs, false, nil // claimed by another meanwhile
}
