package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// RolloutRound is what the controller's leader read of one group's rollout: the world the
// rollout engine steps through, and the revisions that guard committing its result.
type RolloutRound struct {
	World model.RolloutWorld

	read    *groupRead
	hostRev map[string]int64                  // revision each viewed host was read at
	ports   map[string]map[string]model.JobID // host -> port key -> holder, as read
	jobRevs map[model.JobID]int64
}

// hostOps is how many reads one host's view takes.
const hostOps = 5

// ReadRollout reads a group and, when its rollout has work to do, the hosts of its next
// window tasks and the jobs those touch: all the rollout engine needs for one round. The
// hosts are read at one revision, in chunks that fit etcd's transaction limit.
func (s *Store) ReadRollout(ctx context.Context, name, master string, window int, nowMs int64) (*RolloutRound, error) {
	r, _, err := s.readGroup(ctx, "read-rollout", name)
	if err != nil {
		return nil, err
	}
	round := &RolloutRound{
		World: model.RolloutWorld{Group: r.group, Status: r.status, Jobs: map[model.JobID]*model.Job{},
			Hosts: map[string]*model.HostView{}, NowMs: nowMs, Master: master},
		read: r, hostRev: map[string]int64{}, ports: map[string]map[string]model.JobID{}, jobRevs: map[model.JobID]int64{},
	}
	ro := r.status.Rollout
	if !r.status.Active() {
		return round, nil
	}
	var hosts []string
	for _, t := range ro.Tasks[ro.TaskIndex:min(len(ro.Tasks), ro.TaskIndex+window)] {
		if t.Target != "" && !slices.Contains(hosts, t.Target) {
			hosts = append(hosts, t.Target)
		}
	}
	jobs := []model.JobID{ro.JobID}
	for _, ds := range ro.Previous {
		for _, d := range ds {
			jobs = append(jobs, d.JobID)
		}
	}
	per := (maxTxnOps - 1) / hostOps
	for start := 0; start < len(hosts); start += per {
		if err := s.readHostViews(ctx, round, hosts[start:min(start+per, len(hosts))], r.rev); err != nil {
			return nil, err
		}
	}
	for _, h := range round.World.Hosts {
		for id := range h.Deployments {
			jobs = append(jobs, id)
		}
	}
	if err := s.readTimedOutHistory(ctx, round); err != nil {
		return nil, err
	}
	slices.Sort(jobs)
	return round, s.readJobs(ctx, round, slices.Compact(jobs))
}

// readHostViews reads the views of hosts at revision rev.
func (s *Store) readHostViews(ctx context.Context, round *RolloutRound, hosts []string, rev int64) error {
	var ops []clientv3.Op
	for _, h := range hosts {
		ops = append(ops,
			clientv3.OpGet(s.keys.HostID(h), clientv3.WithKeysOnly(), clientv3.WithRev(rev)),
			clientv3.OpGet(s.keys.Up(h), clientv3.WithKeysOnly(), clientv3.WithRev(rev)),
			clientv3.OpGet(s.keys.Deployments(h), clientv3.WithPrefix(), clientv3.WithRev(rev)),
			clientv3.OpGet(s.keys.TaskStatuses(h), clientv3.WithPrefix(), clientv3.WithRev(rev)),
			clientv3.OpGet(s.keys.Ports(h), clientv3.WithPrefix(), clientv3.WithRev(rev)))
	}
	resps, _, err := s.read(ctx, "read-rollout-hosts", ops...)
	if err != nil {
		return err
	}
	for i, h := range hosts {
		rs := resps[i*hostOps : (i+1)*hostOps]
		v := &model.HostView{
			Registered: len(rs[0].Kvs) > 0, Up: len(rs[1].Kvs) > 0,
			Deployments: map[model.JobID]model.Deployment{}, Statuses: map[model.JobID]model.TaskStatus{},
			Ports: map[string]model.JobID{},
		}
		for _, kv := range rs[2].Kvs {
			var d model.Deployment
			if err := decode(string(kv.Key), kv.Value, &d); err != nil {
				s.skipBad(err)
				continue
			}
			v.Deployments[model.JobID(Base(string(kv.Key)))] = d
		}
		for _, kv := range rs[3].Kvs {
			var ts model.TaskStatus
			if err := decode(string(kv.Key), kv.Value, &ts); err != nil {
				s.skipBad(err)
				continue
			}
			ts.Job = nil // the engine needs the state, not a copy of the job
			v.Statuses[model.JobID(Base(string(kv.Key)))] = ts
		}
		ports := map[string]model.JobID{}
		for _, kv := range rs[4].Kvs {
			ports[strings.TrimPrefix(string(kv.Key), s.keys.Ports(h))] = model.JobID(kv.Value)
			v.Ports[strings.TrimPrefix(string(kv.Key), s.keys.Ports(h))] = model.JobID(kv.Value)
		}
		round.World.Hosts[h], round.ports[h], round.hostRev[h] = v, ports, rev
	}
	return nil
}

// historyStates is how many of a task's latest states a timed-out step reports.
const historyStates = 10

// readTimedOutHistory reads, when the current task awaits a job past its timeout, the job's
// latest states on that host, for the failure's message. Only then: it is a range read.
func (s *Store) readTimedOutHistory(ctx context.Context, round *RolloutRound) error {
	ro := round.World.Status.Rollout
	t := ro.Tasks[ro.TaskIndex]
	timeout := ro.Options.Settings().Timeout
	if t.Action != model.ActionAwaitRunning || (round.World.NowMs-ro.StepStarted)/1000 <= timeout {
		return nil
	}
	id := t.Job
	if id == "" {
		id = ro.JobID
	}
	// Both layouts, newest first: an older agent may still write the legacy one.
	limit := clientv3.WithLimit(historyStates)
	newest := clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend)
	resps, _, err := s.read(ctx, "read-rollout-history",
		clientv3.OpGet(s.keys.HostHistory(id, t.Target), clientv3.WithPrefix(), newest, limit),
		clientv3.OpGet(s.keys.LegacyHostHistory(id, t.Target), clientv3.WithPrefix(), newest, limit))
	if err != nil {
		return err
	}
	bySeq := map[string]model.State{}
	for _, r := range resps {
		for _, kv := range r.Kvs {
			var ev model.TaskStatusEvent
			if err := decode(string(kv.Key), kv.Value, &ev); err == nil {
				bySeq[Base(string(kv.Key))] = ev.Status.State
			}
		}
	}
	seqs := slices.Sorted(maps.Keys(bySeq))
	seqs = seqs[max(0, len(seqs)-historyStates):]
	var states []model.State
	for _, seq := range seqs {
		states = append(states, bySeq[seq])
	}
	if h := round.World.Hosts[t.Target]; h != nil {
		h.History = map[model.JobID][]model.State{id: states}
	}
	return nil
}

func (s *Store) readJobs(ctx context.Context, round *RolloutRound, ids []model.JobID) error {
	for start := 0; start < len(ids); start += maxTxnOps {
		chunk := ids[start:min(start+maxTxnOps, len(ids))]
		ops := make([]clientv3.Op, len(chunk))
		for i, id := range chunk {
			ops[i] = clientv3.OpGet(s.keys.Job(id))
		}
		resps, _, err := s.read(ctx, "read-rollout-jobs", ops...)
		if err != nil {
			return err
		}
		for i, id := range chunk {
			job, rev, err := s.jobFrom(resps[i], id)
			if err != nil {
				continue // gone: the engine sees it absent
			}
			round.World.Jobs[id], round.jobRevs[id] = job, rev
		}
	}
	return nil
}

// CommitRollout writes what one round of the rollout engine decided (the deployment writes
// and the group's next status) in one transaction, fenced by the leadership and guarded by
// everything the round read: the group as read, and each written host's deployments, port
// reservations and registration unchanged since. ErrConflict when something changed: read
// again and step again.
func (s *Store) CommitRollout(ctx context.Context, l *Leadership, round *RolloutRound, res model.StepResult) error {
	if !res.Changed {
		return nil
	}
	r := round.read
	c := &change{cmps: r.guards(s.keys)}
	sv, err := encode(res.Status)
	if err != nil {
		return err
	}
	c.ops = append(c.ops, clientv3.OpPut(s.keys.DeploymentGroupStatus(r.group.Name), sv))
	final := map[string]map[string]model.JobID{} // host -> port key -> holder after the writes
	var hosts []string
	for _, w := range res.Writes {
		if _, ok := final[w.Host]; !ok {
			hosts = append(hosts, w.Host)
			final[w.Host] = copyPorts(round.ports[w.Host])
		}
		if err := s.writeDeployment(c, round, w, final[w.Host]); err != nil {
			return err
		}
	}
	for _, h := range hosts {
		rev := round.hostRev[h]
		c.cmps = append(c.cmps,
			clientv3.Compare(clientv3.ModRevision(s.keys.Deployments(h)), "<", rev+1).WithPrefix(),
			clientv3.Compare(clientv3.ModRevision(s.keys.Ports(h)), "<", rev+1).WithPrefix())
		for k, holder := range final[h] {
			if round.ports[h][k] != holder {
				c.ops = append(c.ops, clientv3.OpPut(s.keys.Ports(h)+k, string(holder)))
			}
		}
		for k := range round.ports[h] {
			if _, kept := final[h][k]; !kept {
				c.ops = append(c.ops, clientv3.OpDelete(s.keys.Ports(h)+k))
			}
		}
	}
	s.stampGenerations("commit-rollout", c) // not through guarded: its own fence and retry
	if len(c.ops) > maxTxnOps-1 || len(c.cmps) > maxTxnOps-1 {
		return fmt.Errorf("rollout of %s: %d writes and %d compares do not fit one transaction: %w", r.group.Name, len(c.ops), len(c.cmps), ErrTooLarge)
	}
	ok, err := s.commit(ctx, "commit-rollout", l, c)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("rollout of %s: changed since read: %w", r.group.Name, ErrConflict)
	}
	return nil
}

// writeDeployment adds one deployment write to c, and its port reservations to ports.
func (s *Store) writeDeployment(c *change, round *RolloutRound, w model.HostWrite, ports map[string]model.JobID) error {
	for k, holder := range ports {
		if holder == w.Job {
			delete(ports, k)
		}
	}
	key := s.keys.Deployment(w.Host, w.Job)
	if w.Deployment == nil {
		c.ops = append(c.ops, clientv3.OpDelete(key), clientv3.OpDelete(s.keys.JobHost(w.Job, w.Host)), clientv3.OpDelete(s.keys.JobDef(w.Host, w.Job)))
		return nil
	}
	job := round.World.Jobs[w.Job]
	if job == nil {
		return fmt.Errorf("deploy %s on %s: %w", w.Job, w.Host, ErrJobNotFound)
	}
	v, err := encode(w.Deployment)
	if err != nil {
		return err
	}
	c.cmps = append(c.cmps,
		clientv3.Compare(clientv3.ModRevision(s.keys.Job(w.Job)), "=", round.jobRevs[w.Job]),
		clientv3.Compare(clientv3.CreateRevision(s.keys.HostID(w.Host)), ">", 0))
	def, err := encode(job)
	if err != nil {
		return err
	}
	c.ops = append(c.ops, clientv3.OpPut(key, v), clientv3.OpPut(s.keys.JobHost(w.Job, w.Host), ""), clientv3.OpPut(s.keys.JobDef(w.Host, w.Job), def))
	for _, pm := range job.Ports {
		if pm.IsStatic() {
			ports[model.PortKey(pm.Proto(), *pm.ExternalPort)] = w.Job
		}
	}
	return nil
}

func copyPorts(m map[string]model.JobID) map[string]model.JobID {
	out := make(map[string]model.JobID, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
