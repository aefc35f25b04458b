package store

import (
	"context"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// MirrorResult counts what one mirror pass wrote.
type MirrorResult struct {
	Puts, Deletes int
}

// MirrorDNS makes the SkyDNS records Helios owns under path match what is published now:
// the endpoints of every agent and the DNS entry of every live master. It is level
// triggered: it reads both sides and writes the difference, fenced by l, in transactions of
// at most 127 writes. Records carry no lease: when no leader runs they stay as they
// are, and the next leader's first pass catches up. ttl is the records' DNS TTL.
func (s *Store) MirrorDNS(ctx context.Context, l *Leadership, path string, ttl time.Duration) (MirrorResult, error) {
	path = SkyDNSPath(path)
	desired, err := s.desiredDNS(ctx, path, ttl)
	if err != nil {
		return MirrorResult{}, err
	}
	resp, err := s.get(ctx, "list-skydns", path+"/", clientv3.WithPrefix())
	if err != nil {
		return MirrorResult{}, err
	}
	actual, others := map[string]string{}, map[string]bool{}
	for _, kv := range resp.Kvs {
		if ownedBy(kv.Value, s.keys.Root()) {
			actual[string(kv.Key)] = string(kv.Value)
		} else {
			others[string(kv.Key)] = true
		}
	}
	put, del := recordDiff(desired, actual, others)
	ops := make([]clientv3.Op, 0, len(put)+len(del))
	// Deletions first: a record that must go matters more than one that may wait a pass.
	for _, k := range del {
		ops = append(ops, clientv3.OpDelete(k))
	}
	keys := make([]string, 0, len(put))
	for k := range put {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ops = append(ops, clientv3.OpPut(k, put[k]))
	}
	var res MirrorResult
	// The fence's transaction nests the change, which costs etcd one operation of its 128.
	const perTxn = maxTxnOps - 1
	for start := 0; start < len(ops); start += perTxn {
		chunk := ops[start:min(start+perTxn, len(ops))]
		err := s.guarded(ctx, "mirror-dns", l, func(context.Context) (*change, error) {
			return &change{ops: chunk}, nil
		})
		if err != nil {
			return res, err
		}
		for _, op := range chunk {
			if op.IsDelete() {
				res.Deletes++
			} else {
				res.Puts++
			}
		}
	}
	return res, nil
}

// desiredDNS reads what is published: the hosts that have endpoints (one keys-only range
// over the hosts' status, which holds far more than endpoints), then their endpoints and
// the live masters.
func (s *Store) desiredDNS(ctx context.Context, path string, ttl time.Duration) (map[string]string, error) {
	resp, err := s.get(ctx, "list-endpoint-keys", s.keys.HostStatuses(), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, err
	}
	hosts := []string{}
	seen := map[string]bool{}
	for _, kv := range resp.Kvs {
		h, rest, ok := splitUnder(s.keys.HostStatuses(), string(kv.Key))
		if ok && strings.HasPrefix(rest, "endpoints/") && !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	endpoints := map[string][]model.JobEndpoints{}
	for start := 0; start < len(hosts); start += maxTxnOps {
		chunk := hosts[start:min(start+maxTxnOps, len(hosts))]
		gets := make([]clientv3.Op, 0, len(chunk))
		for _, h := range chunk {
			gets = append(gets, clientv3.OpGet(s.keys.Endpoints(h), clientv3.WithPrefix()))
		}
		resps, _, err := s.read(ctx, "list-endpoints", gets...)
		if err != nil {
			return nil, err
		}
		for i, r := range resps {
			for _, kv := range r.Kvs {
				var je model.JobEndpoints
				if err := decode(string(kv.Key), kv.Value, &je); err != nil {
					s.skipBad(err)
					continue
				}
				endpoints[chunk[i]] = append(endpoints[chunk[i]], je)
			}
		}
	}
	masters, err := s.ListMasters(ctx)
	if err != nil {
		return nil, err
	}
	return desiredRecords(path, s.keys.Root(), dnsTTL(ttl), endpoints, masters), nil
}

// dnsTTL is ttl in whole seconds, at least one (0 would make CoreDNS use its default, 300).
func dnsTTL(ttl time.Duration) uint32 {
	return uint32(max(1, min(math.MaxInt32, int64(math.Ceil(ttl.Seconds())))))
}

// PokeDiscovery is Poke for what the DNS mirror depends on: agents' endpoints and the
// live masters. Task status writes under the same prefix do not wake it.
func (s *Store) PokeDiscovery(ctx context.Context) <-chan struct{} {
	return s.pokeAny(ctx,
		pokeSource{s.keys.HostStatuses(), func(rest string) bool { return strings.Contains(rest, "/endpoints/") }},
		pokeSource{prefix: s.keys.Masters()})
}
