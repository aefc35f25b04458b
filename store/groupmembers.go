package store

import (
	"context"

	"github.com/helios-go/helios/model"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// GroupRecord is a group with its status, for the leader's loops.
type GroupRecord struct {
	Group  model.DeploymentGroup
	Status model.GroupStatus
}

// ListGroupRecords reads every group and its status at one revision.
func (s *Store) ListGroupRecords(ctx context.Context) (map[string]GroupRecord, error) {
	resps, _, err := s.read(ctx, "list-group-records",
		clientv3.OpGet(s.keys.DeploymentGroups(), clientv3.WithPrefix()),
		clientv3.OpGet(s.keys.DeploymentGroupStatuses(), clientv3.WithPrefix()))
	if err != nil {
		return nil, err
	}
	out := map[string]GroupRecord{}
	for _, kv := range resps[0].Kvs {
		var g model.DeploymentGroup
		if err := decode(string(kv.Key), kv.Value, &g); err != nil {
			s.skipBad(err)
			continue
		}
		out[Base(string(kv.Key))] = GroupRecord{Group: g}
	}
	for _, kv := range resps[1].Kvs {
		rec, ok := out[Base(string(kv.Key))]
		if !ok {
			continue
		}
		if err := decode(string(kv.Key), kv.Value, &rec.Status); err != nil {
			s.skipBad(err)
			continue
		}
		out[Base(string(kv.Key))] = rec
	}
	return out, nil
}

// HostFacts is what group membership depends on.
type HostFacts struct {
	Up     bool
	Labels map[string]string
}

// HostFactsAll reads every registered host's labels and whether it is up.
func (s *Store) HostFactsAll(ctx context.Context) (map[string]HostFacts, error) {
	resps, _, err := s.read(ctx, "host-facts", s.hostFactsOps()...)
	if err != nil {
		return nil, err
	}
	return s.hostFacts(resps[0].Kvs, resps[1].Kvs), nil
}

// hostFactsOps are the reads hostFacts needs.
func (s *Store) hostFactsOps() []clientv3.Op {
	return []clientv3.Op{
		clientv3.OpGet(s.keys.Hosts(), clientv3.WithPrefix(), clientv3.WithKeysOnly()),
		clientv3.OpGet(s.keys.HostStatuses(), clientv3.WithPrefix()),
	}
}

func (s *Store) hostFacts(config, status []*mvccpb.KeyValue) map[string]HostFacts {
	out := map[string]HostFacts{}
	for _, kv := range config {
		if h, rest, ok := splitUnder(s.keys.Hosts(), string(kv.Key)); ok && rest == "id" {
			out[h] = HostFacts{}
		}
	}
	for _, kv := range status {
		h, rest, ok := splitUnder(s.keys.HostStatuses(), string(kv.Key))
		f, registered := out[h]
		if !ok || !registered {
			continue
		}
		switch rest {
		case "up":
			f.Up = true
		case "labels":
			if err := decode(string(kv.Key), kv.Value, &f.Labels); err != nil {
				s.skipBad(err)
			}
		}
		out[h] = f
	}
	return out
}

// Members is the group's member update for these facts (model.UpdateMembers).
func Members(g model.DeploymentGroup, st model.GroupStatus, facts map[string]HostFacts) (model.GroupStatus, bool) {
	var matching []string
	if len(g.HostSelectors) > 0 {
		for h, f := range facts {
			if model.MatchAll(g.HostSelectors, f.Labels) {
				matching = append(matching, h)
			}
		}
	}
	registered := func(h string) bool { _, ok := facts[h]; return ok }
	return model.UpdateMembers(st, matching, registered, func(h string) bool { return facts[h].Up })
}

// UpdateGroup lets the leader change a group's definition and status together: decide gets
// them as read and returns what to write (changed false: nothing). Fenced and guarded.
func (s *Store) UpdateGroup(ctx context.Context, l *Leadership, name string, decide func(model.DeploymentGroup, model.GroupStatus) (model.DeploymentGroup, model.GroupStatus, bool)) error {
	return s.guarded(ctx, "update-group", l, func(ctx context.Context) (*change, error) {
		r, _, err := s.readGroup(ctx, "update-group", name)
		if err != nil {
			return nil, err
		}
		g, st, changed := decide(r.group, r.status)
		if !changed {
			return nil, nil
		}
		c := &change{cmps: r.guards(s.keys)}
		return c, s.putGroup(c, g, st)
	})
}
