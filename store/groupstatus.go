package store

import (
	"context"
	"slices"

	"github.com/helios-go/helios/model"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// groupHostStatuses lists, for the members of a group that are up, the group's job there
// and its state: the hostStatuses of the status response.
func (s *Store) groupHostStatuses(ctx context.Context, g model.DeploymentGroup, hosts []string, rev int64) ([]model.GroupHostStatus, error) {
	out := make([]model.GroupHostStatus, 0, len(hosts))
	per := (maxTxnOps - 1) / 3
	for start := 0; start < len(hosts); start += per {
		chunk := hosts[start:min(start+per, len(hosts))]
		var ops []clientv3.Op
		for _, h := range chunk {
			ops = append(ops,
				clientv3.OpGet(s.keys.Up(h), clientv3.WithKeysOnly(), clientv3.WithRev(rev)),
				clientv3.OpGet(s.keys.Deployments(h), clientv3.WithPrefix(), clientv3.WithRev(rev)),
				clientv3.OpGet(s.keys.TaskStatuses(h), clientv3.WithPrefix(), clientv3.WithRev(rev)))
		}
		resps, _, err := s.read(ctx, "deployment-group-status", ops...)
		if err != nil {
			return nil, err
		}
		for i, h := range chunk {
			if len(resps[3*i].Kvs) == 0 {
				continue // the original lists only the members that are up
			}
			out = append(out, s.groupHostStatus(g, h, resps[3*i+1].Kvs, resps[3*i+2].Kvs))
		}
	}
	return out, nil
}

// groupHostStatus finds the group's deployment on a host, its current job's first, and
// the state the agent reports for it.
func (s *Store) groupHostStatus(g model.DeploymentGroup, host string, deps, statuses []*mvccpb.KeyValue) model.GroupHostStatus {
	hs := model.GroupHostStatus{Host: host}
	var found []model.JobID
	for _, kv := range deps {
		var d model.Deployment
		if err := decode(string(kv.Key), kv.Value, &d); err != nil || d.DeploymentGroupName != g.Name {
			continue
		}
		found = append(found, model.JobID(Base(string(kv.Key))))
	}
	if len(found) == 0 {
		return hs
	}
	id := found[0]
	if slices.Contains(found, g.JobID) {
		id = g.JobID
	}
	hs.JobID = &id
	for _, kv := range statuses {
		if model.JobID(Base(string(kv.Key))) != id {
			continue
		}
		var ts model.TaskStatus
		if err := decode(string(kv.Key), kv.Value, &ts); err == nil {
			hs.State = &ts.State
		}
	}
	return hs
}

// DeploymentGroupStatus is the status of a group as GET /deployment-group/{name}/status
// answers it.
func (s *Store) DeploymentGroupStatus(ctx context.Context, name string) (*model.DeploymentGroupStatusResponse, error) {
	r, _, err := s.readGroup(ctx, "deployment-group-status", name)
	if err != nil {
		return nil, err
	}
	st := r.status
	resp := &model.DeploymentGroupStatusResponse{
		DeploymentGroup: r.group, Status: st.ReportedState(), Error: st.Error,
		RolledBack: st.RolledBack, RollbackErrors: st.RollbackErrors, Revision: r.rev,
	}
	if ro := st.Rollout; ro != nil {
		resp.RollingBack, resp.TaskIndex, resp.TaskCount = ro.RollingBack, ro.TaskIndex, len(ro.Tasks)
	}
	if resp.HostStatuses, err = s.groupHostStatuses(ctx, r.group, st.Hosts, r.rev); err != nil {
		return nil, err
	}
	return resp, nil
}
