package store

import (
	"context"
	"sort"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// PutMaster announces a live master for as long as lease lives.
func (s *Store) PutMaster(ctx context.Context, info model.MasterInfo, lease LeaseID) error {
	if err := ValidName("master name", info.Name); err != nil {
		return err
	}
	val, err := encode(info)
	if err != nil {
		return err
	}
	return s.put(ctx, "put-master", s.keys.Master(info.Name), val, clientv3.WithLease(clientv3.LeaseID(lease)))
}

// ListMasters returns the live masters, sorted by name.
func (s *Store) ListMasters(ctx context.Context) ([]model.MasterInfo, error) {
	resp, err := s.get(ctx, "list-masters", s.keys.Masters(), clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	out := make([]model.MasterInfo, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var m model.MasterInfo
		if err := decode(string(kv.Key), kv.Value, &m); err != nil {
			s.skipBad(err)
			continue
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
