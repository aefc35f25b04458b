package store

import (
	"context"
	"fmt"
	"sort"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// deployRead is what a deployment change must know first, read at one revision.
type deployRead struct {
	job    *model.Job
	jobRaw []byte // the job's stored JSON, copied under the host at deploy
	jobRev int64
	dep    *model.Deployment
	depRev int64
	ports  map[string]portHolder // reservations on the host by key
}

type portHolder struct {
	job model.JobID
	rev int64
}

// readDeploy reads the job, the host's id, the deployment and the host's port reservations
// and refuses, in the original's order: unknown job, wrong token, unknown host.
func (s *Store) readDeploy(ctx context.Context, op, host string, id model.JobID, token string) (*deployRead, error) {
	if err := ValidName("host", host); err != nil {
		return nil, err
	}
	if err := ValidName("job id", string(id)); err != nil {
		return nil, err
	}
	resps, _, err := s.read(ctx, op,
		clientv3.OpGet(s.keys.Job(id)),
		clientv3.OpGet(s.keys.HostID(host), clientv3.WithKeysOnly()),
		clientv3.OpGet(s.keys.Deployment(host, id)),
		clientv3.OpGet(s.keys.Ports(host), clientv3.WithPrefix()))
	if err != nil {
		return nil, err
	}
	r := &deployRead{ports: map[string]portHolder{}}
	if r.job, r.jobRev, err = s.jobFrom(resps[0], id); err != nil {
		return nil, err
	}
	r.jobRaw = resps[0].Kvs[0].Value
	if !model.TokenMatches(r.job.Token, token) {
		return nil, fmt.Errorf("job %s: %w", id, ErrForbidden)
	}
	if len(resps[1].Kvs) == 0 {
		return nil, fmt.Errorf("host %s: %w", host, ErrHostNotFound)
	}
	if kvs := resps[2].Kvs; len(kvs) > 0 {
		var d model.Deployment
		if err := decode(string(kvs[0].Key), kvs[0].Value, &d); err != nil {
			return nil, err
		}
		r.dep, r.depRev = &d, kvs[0].ModRevision
	}
	for _, kv := range resps[3].Kvs {
		r.ports[string(kv.Key)] = portHolder{job: model.JobID(kv.Value), rev: kv.ModRevision}
	}
	return r, nil
}

// Deploy puts a job on a host. One transaction, guarded by compares on everything checked:
// the job as read (its ModRevision), the host registered (its id key exists), no deployment
// yet, and every static port key as read (absent, or held by this job). It writes the
// deployment, the reverse index entry and the port reservations. When a compare fails it
// reads again to tell which error applies; a refused deploy writes nothing.
func (s *Store) Deploy(ctx context.Context, host string, dep model.Deployment, token string) error {
	id := dep.JobID
	if dep.Goal == "" {
		dep.Goal = model.GoalStart
	}
	if g, ok := model.ParseGoal(string(dep.Goal)); ok {
		dep.Goal = g
	} else {
		return fmt.Errorf("goal %q: %w", dep.Goal, ErrInvalidGoal)
	}
	val, err := encode(dep)
	if err != nil {
		return err
	}
	depKey, idKey := s.keys.Deployment(host, id), s.keys.HostID(host)
	return s.guarded(ctx, "deploy", nil, func(ctx context.Context) (*change, error) {
		r, err := s.readDeploy(ctx, "deploy", host, id, token)
		if err != nil {
			return nil, err
		}
		if r.dep != nil {
			return nil, fmt.Errorf("job %s on host %s: %w", id, host, ErrAlreadyDeployed)
		}
		c := &change{
			cmps: []clientv3.Cmp{
				clientv3.Compare(clientv3.ModRevision(s.keys.Job(id)), "=", r.jobRev),
				clientv3.Compare(clientv3.CreateRevision(idKey), ">", 0),
				clientv3.Compare(clientv3.CreateRevision(depKey), "=", 0),
			},
			ops: []clientv3.Op{clientv3.OpPut(depKey, val), clientv3.OpPut(s.keys.JobHost(id, host), ""),
				clientv3.OpPut(s.keys.JobDef(host, id), string(r.jobRaw))},
		}
		if err := s.reservePorts(c, host, id, r); err != nil {
			return nil, err
		}
		return c, nil
	})
}

// reservePorts adds to c the reservation of every static port of the job read in r, each
// guarded as read (free, or already held by this job); a port held by another job refuses.
func (s *Store) reservePorts(c *change, host string, id model.JobID, r *deployRead) error {
	portKeys, err := s.staticPortKeys(host, r.job)
	if err != nil {
		return err
	}
	for _, pk := range portKeys {
		holder, taken := r.ports[pk.key]
		if taken && holder.job != id {
			return fmt.Errorf("port %d/%s on host %s is used by job %s: %w", pk.port, pk.proto, host, holder.job, ErrPortConflict)
		}
		c.cmps = append(c.cmps, clientv3.Compare(clientv3.ModRevision(pk.key), "=", holder.rev))
		c.ops = append(c.ops, clientv3.OpPut(pk.key, string(id)))
	}
	return nil
}

type portKey struct {
	key, proto string
	port       int
}

// staticPortKeys lists the reservation keys of the job's static ports, sorted. The same
// port asked twice by one job cannot be bound twice: a conflict with itself.
func (s *Store) staticPortKeys(host string, job *model.Job) ([]portKey, error) {
	seen := map[string]string{}
	var out []portKey
	for name, pm := range job.Ports {
		if !pm.IsStatic() {
			continue
		}
		k := s.keys.Port(host, pm.Proto(), *pm.ExternalPort)
		if other, dup := seen[k]; dup {
			return nil, fmt.Errorf("job %s asks for port %d/%s twice (%s and %s): %w",
				job.ID, *pm.ExternalPort, pm.Proto(), other, name, ErrPortConflict)
		}
		seen[k] = name
		out = append(out, portKey{key: k, proto: pm.Proto(), port: *pm.ExternalPort})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out, nil
}

// Undeploy takes a job off a host: deployment, reverse index entry and the job's port
// reservations on the host go in one transaction guarded by the deployment and the job as
// read. The agent then sees the deployment gone, removes the container and deletes the
// task status.
func (s *Store) Undeploy(ctx context.Context, host string, id model.JobID, token string) error {
	return s.guarded(ctx, "undeploy", nil, func(ctx context.Context) (*change, error) {
		r, err := s.readDeploy(ctx, "undeploy", host, id, token)
		if err != nil {
			return nil, err
		}
		if r.dep == nil {
			return nil, fmt.Errorf("job %s on host %s: %w", id, host, ErrNotDeployed)
		}
		c := &change{cmps: []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(s.keys.Job(id)), "=", r.jobRev)}}
		s.undeployChange(c, host, id, r.depRev, r.ports)
		return c, nil
	})
}

// undeployChange adds to c the removal of a deployment (guarded by its ModRevision as read),
// its reverse-index entry and the job's port reservations on the host.
func (s *Store) undeployChange(c *change, host string, id model.JobID, depRev int64, ports map[string]portHolder) {
	depKey := s.keys.Deployment(host, id)
	c.cmps = append(c.cmps, clientv3.Compare(clientv3.ModRevision(depKey), "=", depRev))
	c.ops = append(c.ops, clientv3.OpDelete(depKey), clientv3.OpDelete(s.keys.JobHost(id, host)), clientv3.OpDelete(s.keys.JobDef(host, id)))
	for k, holder := range ports {
		if holder.job == id { // at most maxTxnOps-2: Deploy reserved them in one txn
			c.cmps = append(c.cmps, clientv3.Compare(clientv3.ModRevision(k), "=", holder.rev))
			c.ops = append(c.ops, clientv3.OpDelete(k))
		}
	}
}

// SetGoal changes what the deployment wants (start, stop, undeploy), guarded like Undeploy.
func (s *Store) SetGoal(ctx context.Context, host string, id model.JobID, goal model.Goal, token string) error {
	if g, ok := model.ParseGoal(string(goal)); ok {
		goal = g
	} else {
		return fmt.Errorf("goal %q: %w", goal, ErrInvalidGoal)
	}
	depKey := s.keys.Deployment(host, id)
	return s.guarded(ctx, "set-goal", nil, func(ctx context.Context) (*change, error) {
		r, err := s.readDeploy(ctx, "set-goal", host, id, token)
		if err != nil {
			return nil, err
		}
		if r.dep == nil {
			return nil, fmt.Errorf("job %s on host %s: %w", id, host, ErrNotDeployed)
		}
		if r.dep.Goal == goal {
			return nil, nil
		}
		d := *r.dep
		d.Goal = goal
		val, err := encode(d)
		if err != nil {
			return nil, err
		}
		return &change{
			cmps: []clientv3.Cmp{
				clientv3.Compare(clientv3.ModRevision(s.keys.Job(id)), "=", r.jobRev),
				clientv3.Compare(clientv3.ModRevision(depKey), "=", r.depRev),
			},
			ops: []clientv3.Op{clientv3.OpPut(depKey, val)},
		}, nil
	})
}

// GetDeployment reads one deployment; ErrNotDeployed if there is none.
func (s *Store) GetDeployment(ctx context.Context, host string, id model.JobID) (*model.Deployment, error) {
	if err := ValidName("host", host); err != nil {
		return nil, err
	}
	if err := ValidName("job id", string(id)); err != nil {
		return nil, err
	}
	resp, err := s.get(ctx, "get-deployment", s.keys.Deployment(host, id))
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("job %s on host %s: %w", id, host, ErrNotDeployed)
	}
	var d model.Deployment
	if err := decode(string(resp.Kvs[0].Key), resp.Kvs[0].Value, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// JobStatus is a job with its deployments (found through the reverse index) and the task
// statuses its hosts report.
func (s *Store) JobStatus(ctx context.Context, id model.JobID) (*model.JobStatus, error) {
	if err := ValidName("job id", string(id)); err != nil {
		return nil, err
	}
	resps, _, err := s.read(ctx, "job-status",
		clientv3.OpGet(s.keys.Job(id)),
		clientv3.OpGet(s.keys.JobHosts(id), clientv3.WithPrefix(), clientv3.WithKeysOnly()))
	if err != nil {
		return nil, err
	}
	job, _, err := s.jobFrom(resps[0], id)
	if err != nil {
		return nil, err
	}
	st := &model.JobStatus{Job: job, Deployments: map[string]model.Deployment{}, TaskStatuses: map[string]model.TaskStatus{}}
	var keys []string
	for _, kv := range resps[1].Kvs {
		h := Base(string(kv.Key))
		keys = append(keys, s.keys.Deployment(h, id), s.keys.TaskStatus(h, id))
	}
	vals, err := s.getMany(ctx, "job-status", keys)
	if err != nil {
		return nil, err
	}
	for _, kv := range resps[1].Kvs {
		h := Base(string(kv.Key))
		if b, ok := vals[s.keys.Deployment(h, id)]; ok {
			var d model.Deployment
			if err := decode(s.keys.Deployment(h, id), b, &d); err != nil {
				s.skipBad(err)
			} else {
				st.Deployments[h] = d
			}
		}
		if b, ok := vals[s.keys.TaskStatus(h, id)]; ok {
			var ts model.TaskStatus
			if err := decode(s.keys.TaskStatus(h, id), b, &ts); err != nil {
				s.skipBad(err)
			} else {
				st.TaskStatuses[h] = ts
			}
		}
	}
	return st, nil
}

// HostDeployments is what an agent needs to reconcile: the host's deployments, their jobs
// and the revision the deployments were read at (to watch from revision+1).
func (s *Store) HostDeployments(ctx context.Context, host string) (map[model.JobID]model.Deployment, map[model.JobID]model.Job, int64, error) {
	if err := ValidName("host", host); err != nil {
		return nil, nil, 0, err
	}
	resps, rev, err := s.read(ctx, "host-deployments",
		clientv3.OpGet(s.keys.Deployments(host), clientv3.WithPrefix()),
		clientv3.OpGet(s.keys.JobDefs(host), clientv3.WithPrefix()))
	if err != nil {
		return nil, nil, 0, err
	}
	deps := make(map[model.JobID]model.Deployment, len(resps[0].Kvs))
	for _, kv := range resps[0].Kvs {
		var d model.Deployment
		if err := decode(string(kv.Key), kv.Value, &d); err != nil {
			s.skipBad(err)
			continue
		}
		deps[model.JobID(Base(string(kv.Key)))] = d
	}
	jobs := make(map[model.JobID]model.Job, len(deps))
	for _, kv := range resps[1].Kvs {
		var j model.Job
		if err := decode(string(kv.Key), kv.Value, &j); err != nil {
			s.skipBad(err)
			continue
		}
		jobs[model.JobID(Base(string(kv.Key)))] = j
	}
	// Deployments made by masters before the copies under the host existed: read the jobs
	// themselves. Jobs are never rewritten, so reading them after the deployments is
	// consistent.
	var keys []string
	for id := range deps {
		if _, ok := jobs[id]; !ok {
			keys = append(keys, s.keys.Job(id))
		}
	}
	vals, err := s.getMany(ctx, "host-deployments", keys)
	if err != nil {
		return nil, nil, 0, err
	}
	for k, b := range vals {
		var j model.Job
		if err := decode(k, b, &j); err != nil {
			s.skipBad(err)
			continue
		}
		jobs[model.JobID(Base(k))] = j
	}
	return deps, jobs, rev, nil
}
