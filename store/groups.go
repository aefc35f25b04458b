package store

import (
	"context"
	"fmt"
	"sort"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// groupRead is a deployment group and its status as read at one revision.
type groupRead struct {
	group     model.DeploymentGroup
	groupRev  int64 // ModRevision of the definition
	status    model.GroupStatus
	statusRev int64 // ModRevision of the status; 0 when it has none
	rev       int64 // the revision of the read
}

// guards hold the group as read: definition and status unchanged.
func (r *groupRead) guards(k Keys) []clientv3.Cmp {
	return []clientv3.Cmp{
		clientv3.Compare(clientv3.ModRevision(k.DeploymentGroup(r.group.Name)), "=", r.groupRev),
		clientv3.Compare(clientv3.ModRevision(k.DeploymentGroupStatus(r.group.Name)), "=", r.statusRev),
	}
}

// readGroup reads a group's definition and status, and extra ops at the same revision.
func (s *Store) readGroup(ctx context.Context, op, name string, extra ...clientv3.Op) (*groupRead, []*clientv3.GetResponse, error) {
	if err := ValidName("deployment group", name); err != nil {
		return nil, nil, err
	}
	ops := append([]clientv3.Op{clientv3.OpGet(s.keys.DeploymentGroup(name)), clientv3.OpGet(s.keys.DeploymentGroupStatus(name))}, extra...)
	resps, rev, err := s.read(ctx, op, ops...)
	if err != nil {
		return nil, nil, err
	}
	kvs := resps[0].Kvs
	if len(kvs) == 0 {
		return nil, nil, fmt.Errorf("deployment group %s: %w", name, ErrDeploymentGroupNotFound)
	}
	r := &groupRead{groupRev: kvs[0].ModRevision, rev: rev}
	if err := decode(string(kvs[0].Key), kvs[0].Value, &r.group); err != nil {
		return nil, nil, err
	}
	if kvs := resps[1].Kvs; len(kvs) > 0 {
		r.statusRev = kvs[0].ModRevision
		if err := decode(string(kvs[0].Key), kvs[0].Value, &r.status); err != nil {
			return nil, nil, err
		}
	}
	return r, resps[2:], nil
}

// put adds to c the writes of the group's definition and status.
func (s *Store) putGroup(c *change, g model.DeploymentGroup, st model.GroupStatus) error {
	gv, err := encode(g)
	if err != nil {
		return err
	}
	sv, err := encode(st)
	if err != nil {
		return err
	}
	c.ops = append(c.ops, clientv3.OpPut(s.keys.DeploymentGroup(g.Name), gv), clientv3.OpPut(s.keys.DeploymentGroupStatus(g.Name), sv))
	return nil
}

// CreateDeploymentGroup stores a new group and answers with the original's word: CREATED;
// NOT_MODIFIED when a group of that name exists with the same selectors; CONFLICT when it
// exists with other selectors. Only CREATED writes anything.
func (s *Store) CreateDeploymentGroup(ctx context.Context, g model.DeploymentGroup) (string, error) {
	if err := ValidName("deployment group", g.Name); err != nil {
		return "", err
	}
	word := model.StatusCreated
	key := s.keys.DeploymentGroup(g.Name)
	err := s.guarded(ctx, "create-deployment-group", nil, func(ctx context.Context) (*change, error) {
		resp, err := s.get(ctx, "create-deployment-group", key)
		if err != nil {
			return nil, err
		}
		if len(resp.Kvs) > 0 {
			var old model.DeploymentGroup
			if err := decode(key, resp.Kvs[0].Value, &old); err != nil {
				return nil, err
			}
			word = model.StatusConflict
			if old.SameSelectors(g) {
				word = model.StatusNotModified
			}
			return nil, nil
		}
		resps, _, err := s.read(ctx, "create-deployment-group", s.hostFactsOps()...)
		if err != nil {
			return nil, err
		}
		// The members are known from the start; the leader keeps them up to date.
		st, _ := Members(g, model.GroupStatus{Hosts: []string{}}, s.hostFacts(resps[0].Kvs, resps[1].Kvs))
		c := &change{cmps: []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)}}
		return c, s.putGroup(c, g, st)
	})
	return word, err
}

// GetDeploymentGroup reads one group; ErrDeploymentGroupNotFound if there is none.
func (s *Store) GetDeploymentGroup(ctx context.Context, name string) (*model.DeploymentGroup, error) {
	r, _, err := s.readGroup(ctx, "get-deployment-group", name)
	if err != nil {
		return nil, err
	}
	return &r.group, nil
}

// ListDeploymentGroups returns the names of every group, sorted.
func (s *Store) ListDeploymentGroups(ctx context.Context) ([]string, error) {
	resp, err := s.get(ctx, "list-deployment-groups", s.keys.DeploymentGroups(), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		names = append(names, Base(string(kv.Key)))
	}
	sort.Strings(names)
	return names, nil
}

// RemoveDeploymentGroup deletes a group and its status, which ends any rollout of it. It
// undeploys nothing, as in the original: the group's deployments stay, and a group created
// again under the same name owns them again.
func (s *Store) RemoveDeploymentGroup(ctx context.Context, name string) error {
	if err := ValidName("deployment group", name); err != nil {
		return err
	}
	key := s.keys.DeploymentGroup(name)
	resp, err := s.txn(ctx, "remove-deployment-group",
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), ">", 0)},
		[]clientv3.Op{clientv3.OpDelete(key), clientv3.OpDelete(s.keys.DeploymentGroupStatus(name))})
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		return fmt.Errorf("deployment group %s: %w", name, ErrDeploymentGroupNotFound)
	}
	return nil
}

// RollingUpdate starts a rollout of job over the group, replacing whatever rollout ran or
// failed before (as the original does). The options are the request's, then the job's,
// then the defaults. The group's definition (job, options, reason MANUAL) and its planned
// rollout are written in one transaction guarded by both as read; the controller's leader
// then carries the rollout out.
func (s *Store) RollingUpdate(ctx context.Context, name string, id model.JobID, req *model.RolloutOptions, nowMs int64) error {
	if err := ValidName("job id", string(id)); err != nil {
		return err
	}
	return s.guarded(ctx, "rolling-update", nil, func(ctx context.Context) (*change, error) {
		r, resps, err := s.readGroup(ctx, "rolling-update", name, append([]clientv3.Op{clientv3.OpGet(s.keys.Job(id))}, s.hostFactsOps()...)...)
		if err != nil {
			return nil, err
		}
		job, _, err := s.jobFrom(resps[0], id)
		if err != nil {
			return nil, err
		}
		// The members as of now, not as the leader last recorded them: a host that joined
		// a moment ago is rolled too.
		facts := s.hostFacts(resps[1].Kvs, resps[2].Kvs)
		members, _ := Members(r.group, r.status, facts)
		opts := model.ResolveRolloutOptions(req, job.RolloutOptions)
		g := r.group
		g.JobID, g.RolloutOptions, g.RollingUpdateReason = id, &opts, model.ReasonManual
		next := model.StartRollout(members, id, model.ReasonManual, opts, func(h string) bool { return facts[h].Up }, nowMs)
		c := &change{cmps: r.guards(s.keys)}
		return c, s.putGroup(c, g, next)
	})
}

// StopDeploymentGroup ends the group's rollout as FAILED "Stopped by user" (rolling the
// hosts back when the rollout asked for it). Stopping an idle or finished group marks it
// FAILED too, as in the original.
func (s *Store) StopDeploymentGroup(ctx context.Context, name string, nowMs int64) error {
	return s.changeGroupStatus(ctx, "stop-deployment-group", name, func(st model.GroupStatus) (model.GroupStatus, error) {
		return model.StopRollout(st, nowMs), nil
	})
}

// PromoteDeploymentGroup resumes a canary rollout PAUSED after its canary hosts;
// ErrNotPaused when the group is not paused.
func (s *Store) PromoteDeploymentGroup(ctx context.Context, name string, nowMs int64) error {
	return s.changeGroupStatus(ctx, "promote-deployment-group", name, func(st model.GroupStatus) (model.GroupStatus, error) {
		next, ok := model.PromoteRollout(st, nowMs)
		if !ok {
			return st, fmt.Errorf("deployment group %s is %s: %w", name, st.ReportedState(), ErrNotPaused)
		}
		return next, nil
	})
}

func (s *Store) changeGroupStatus(ctx context.Context, op, name string, fn func(model.GroupStatus) (model.GroupStatus, error)) error {
	return s.guarded(ctx, op, nil, func(ctx context.Context) (*change, error) {
		r, _, err := s.readGroup(ctx, op, name)
		if err != nil {
			return nil, err
		}
		next, err := fn(r.status)
		if err != nil {
			return nil, err
		}
		c := &change{cmps: r.guards(s.keys)}
		return c, s.putGroup(c, r.group, next)
	})
}
