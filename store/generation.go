package store

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// stampGenerations adds to c a put of the generation key of every host whose desired state
// (deployments, job copies, port reservations: the configuration but the id) c writes, so that the host's generation moves in the same transaction as its desired
// state. The value is the operation's name (for people reading etcd); what the agent
// compares is the key's ModRevision, which no read is needed to advance. A host whose whole
// prefix c deletes (deregistration) gets none: etcd refuses a put inside a deleted range,
// and a deregistered host has no desired state left to guard.
func (s *Store) stampGenerations(op string, c *change) {
	hosts := map[string]bool{}
	wiped := map[string]bool{}
	for _, o := range c.ops {
		if !o.IsPut() && !o.IsDelete() {
			continue
		}
		key := string(o.KeyBytes())
		host, rest, ok := splitUnder(s.keys.Hosts(), key)
		if !ok {
			continue
		}
		if o.IsDelete() && rest == "" && bytes.Equal(o.RangeBytes(), []byte(clientv3.GetPrefixRangeEnd(s.keys.Host(host)))) {
			wiped[host] = true
			continue
		}
		if key == s.keys.HostID(host) {
			// Registration is no desired state, and the agent registers itself: under
			// etcd authentication its role may write the id key alone (etcdauth_roles.go).
			continue
		}
		if key == s.keys.HostGeneration(host) {
			wiped[host] = true // the write is the generation itself (AcceptRestore)
			continue
		}
		hosts[host] = true
	}
	names := make([]string, 0, len(hosts))
	for h := range hosts {
		if !wiped[h] {
			names = append(names, h)
		}
	}
	sort.Strings(names) // a stable transaction, for tests and logs
	for _, h := range names {
		c.ops = append(c.ops, clientv3.OpPut(s.keys.HostGeneration(h), op))
	}
}

// Generation is what an agent needs to tell a restored etcd from a live one: the
// ModRevision of the host's generation key (0 when absent) and whether the host is
// registered (its id key present), as of etcd revision Rev.
type Generation struct {
	ModRevision int64
	Registered  bool
	// Accepted is the ModRevision of the host's restore-accepted key (0: absent).
	Accepted int64
	Rev      int64
}

// HostGeneration reads host's generation. The agent reads it after the deployments it
// lists, so that a restore between the two reads shows as a lower generation.
func (s *Store) HostGeneration(ctx context.Context, host string) (Generation, error) {
	if err := ValidName("host", host); err != nil {
		return Generation{}, err
	}
	resps, rev, err := s.read(ctx, "host-generation",
		clientv3.OpGet(s.keys.HostGeneration(host), clientv3.WithKeysOnly()),
		clientv3.OpGet(s.keys.HostID(host), clientv3.WithKeysOnly()),
		clientv3.OpGet(s.keys.RestoreAccepted(host), clientv3.WithKeysOnly()))
	if err != nil {
		return Generation{}, err
	}
	g := Generation{Registered: len(resps[1].Kvs) > 0, Rev: rev}
	if kvs := resps[0].Kvs; len(kvs) > 0 {
		g.ModRevision = kvs[0].ModRevision
	}
	if kvs := resps[2].Kvs; len(kvs) > 0 {
		g.Accepted = kvs[0].ModRevision
	}
	return g, nil
}

// AcceptRestore is an operator's decision after an etcd restore: host's agent, which holds
// back every removal while etcd's generation is older than the one it acted on, converges
// to etcd's desired state from now on. It puts the generation key, so its ModRevision is
// past any the agent saw (a restore with --bump-revision keeps revisions going forward), and
// the restore-accepted key, which only this writes. It returns the agent's report of a
// suspected restore as it was when accepted (nil: none): the agent itself deletes the report
// once it has seen the acceptance.
func (s *Store) AcceptRestore(ctx context.Context, host string) (*model.RestoreSuspicion, error) {
	if err := ValidName("host", host); err != nil {
		return nil, err
	}
	idKey, reportKey := s.keys.HostID(host), s.keys.RestoreSuspected(host)
	var held *model.RestoreSuspicion
	err := s.guarded(ctx, "accept-restore", nil, func(ctx context.Context) (*change, error) {
		resps, _, err := s.read(ctx, "accept-restore", clientv3.OpGet(idKey, clientv3.WithKeysOnly()), clientv3.OpGet(reportKey))
		if err != nil {
			return nil, err
		}
		if len(resps[0].Kvs) == 0 {
			return nil, fmt.Errorf("host %s: %w", host, ErrHostNotFound)
		}
		held = nil
		if kvs := resps[1].Kvs; len(kvs) > 0 {
			held = &model.RestoreSuspicion{}
			if err := decode(reportKey, kvs[0].Value, held); err != nil {
				s.skipBad(err) // reported all the same: the agent said it holds back
			}
		}
		return &change{
			cmps: []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(idKey), "=", resps[0].Kvs[0].ModRevision)},
			ops: []clientv3.Op{clientv3.OpPut(s.keys.HostGeneration(host), "accept-restore"),
				clientv3.OpPut(s.keys.RestoreAccepted(host), "")},
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return held, nil
}
