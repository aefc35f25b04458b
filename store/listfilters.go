package store

import (
	"context"
	"strings"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DeployedJobs returns the ids of the jobs deployed on the hosts whose names match, from
// one keys-only range over the hosts' configuration: the values (deployments, statuses)
// are not read.
func (s *Store) DeployedJobs(ctx context.Context, hostMatch func(string) bool) (map[model.JobID]bool, error) {
	dir := s.keys.Hosts()
	resp, err := s.get(ctx, "deployed-jobs", dir, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, err
	}
	out := map[model.JobID]bool{}
	for _, kv := range resp.Kvs {
		h, rest, ok := splitUnder(dir, string(kv.Key))
		if ok && strings.HasPrefix(rest, "jobs/") && hostMatch(h) {
			out[model.JobID(strings.TrimPrefix(rest, "jobs/"))] = true
		}
	}
	return out, nil
}

// HostLabels reads the labels of the given hosts, maxTxnOps hosts to a read; a host
// without labels is left out.
func (s *Store) HostLabels(ctx context.Context, hosts []string) (map[string]map[string]string, error) {
	keys := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if err := ValidName("host", h); err != nil {
			return nil, err
		}
		keys = append(keys, s.keys.Labels(h))
	}
	vals, err := s.getMany(ctx, "host-labels", keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]string, len(vals))
	for _, h := range hosts {
		k := s.keys.Labels(h)
		b, ok := vals[k]
		if !ok {
			continue
		}
		var labels map[string]string
		if err := decode(k, b, &labels); err != nil {
			s.skipBad(err)
			continue
		}
		out[h] = labels
	}
	return out, nil
}
