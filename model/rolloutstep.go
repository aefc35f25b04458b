package model

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Error words of a failed rollout step, the original's.
const (
	RolloutPortConflict          = "PORT_CONFLICT"
	RolloutUnexpectedlyUndeploy  = "JOB_UNEXPECTEDLY_UNDEPLOYED"
	RolloutAlreadyDeployed       = "JOB_ALREADY_DEPLOYED"
	RolloutTimedOutRunning       = "TIMED_OUT_WAITING_FOR_JOB_TO_REACH_RUNNING"
	RolloutTimedOutUndeploy      = "TIMED_OUT_WAITING_FOR_JOB_TO_UNDEPLOY"
	RolloutTokenError            = "TOKEN_VERIFICATION_ERROR"
	RolloutJobNotFound           = "JOB_NOT_FOUND"
	RolloutHostNotFound          = "HOST_NOT_FOUND"
	RolloutImageMissing          = "IMAGE_MISSING"
	RolloutImagePullFailed       = "IMAGE_PULL_FAILED"
	StoppedByUser                = "Stopped by user"
	rolloutPortConflictExplained = "the conflicting job was deployed manually or by a different deployment group"
)

// HostView is what the rollout engine sees of one host, read at one revision.
type HostView struct {
	Registered  bool
	Up          bool
	Deployments map[JobID]Deployment
	Statuses    map[JobID]TaskStatus
	Ports       map[string]JobID // "tcp/8080": the job holding that static host port
	// History holds a job's latest states, oldest first, for the message of a step that
	// timed out waiting for it (read only then).
	History map[JobID][]State
}

// PortKey names a static host port in HostView.Ports.
func PortKey(proto string, port int) string { return fmt.Sprintf("%s/%d", proto, port) }

// RolloutWorld is everything one round of a rollout looks at.
type RolloutWorld struct {
	Group  DeploymentGroup
	Status GroupStatus
	Jobs   map[JobID]*Job       // the rollout's job, the jobs on the viewed hosts and in Rollout.Previous; absent: gone
	Hosts  map[string]*HostView // the hosts of the next tasks; a task whose host was not read ends the round
	NowMs  int64
	Master string // recorded as deployerMaster of the deployments the rollout makes
}

// HostWrite is one change of a deployment: Deployment nil undeploys Job from Host.
type HostWrite struct {
	Host       string
	Job        JobID
	Deployment *Deployment
}

// RolloutFailure is why a step failed: "host: WORD: message", as the status's error shows.
type RolloutFailure struct {
	Host    string
	Job     JobID
	Word    string
	Message string
}

func (f *RolloutFailure) Error() string {
	if f.Host == "" {
		return f.Word + ": " + f.Message
	}
	return f.Host + ": " + f.Word + ": " + f.Message
}

// StepResult is what a round decided: the group's next status, the deployment writes to
// commit with it (one transaction), and when to look again if no event comes first.
type StepResult struct {
	Status   GroupStatus
	Writes   []HostWrite
	Steps    []RolloutTask   // tasks completed this round, in order
	Failure  *RolloutFailure // the failure that ended the rollout this round
	Ignored  []*RolloutFailure
	Changed  bool       // Status or Writes differ from what was read: commit
	WakeAtMs int64      // a waiting step times out then; 0: wait for events only
	Ended    GroupState // DONE, FAILED or PAUSED when the rollout got there this round
}

// StepRollout runs as many of the rollout's tasks as can complete now, in order, stopping at
// the first that must wait, at a task whose host is not in the world, or once maxWrites
// deployment writes are gathered (so that they fit one etcd transaction). It is pure: the
// caller commits Writes and Status together, guarded by what it read.
func StepRollout(w RolloutWorld, maxWrites int) StepResult {
	// A round applies its writes to its view of the hosts, so that later tasks see them:
	// to a copy, so that the caller's views stay as read (its commit may yet fail).
	hosts := make(map[string]*HostView, len(w.Hosts))
	for name, h := range w.Hosts {
		if h != nil {
			c := *h
			c.Deployments, c.Ports = maps.Clone(h.Deployments), maps.Clone(h.Ports)
			hosts[name] = &c
		}
	}
	w.Hosts = hosts
	e := engine{w: w, st: w.Status.clone(), pending: map[string]int{}}
	e.run(max(maxWrites, 1))
	return e.res
}

type engine struct {
	w       RolloutWorld
	st      GroupStatus
	res     StepResult
	pending map[string]int // host + job -> index in res.Writes, so a later write replaces it
}

func (e *engine) run(maxWrites int) {
	for e.st.Active() {
		// Read afresh for each task: a failure replaces the rollout (FailRollout) with
		// its rollback plan.
		r := e.st.Rollout
		t := r.Tasks[r.TaskIndex]
		// The budget is checked before any task but a deploy or a restore, so that
		// undeploying a deployment and deploying it again (migrate, and its rollback) land
		// in one transaction: the agent never sees the deployment gone. A deploy adds at
		// most one write, a restore one per deployment it puts back.
		if len(e.res.Writes) >= maxWrites && t.Action != ActionDeployNewJob && t.Action != ActionRollbackRestore {
			break
		}
		if t.Action == ActionAwaitPromotion {
			e.st.State, e.res.Ended, e.res.Changed = GroupPaused, GroupPaused, true
			break
		}
		h := e.w.Hosts[t.Target]
		if h == nil {
			break
		}
		writes, wait, fail := e.do(t, h)
		if wait {
			break
		}
		if fail != nil {
			if !e.failed(fail) {
				break
			}
			continue
		}
		for _, wr := range writes {
			e.write(wr)
		}
		e.advance(t)
	}
	// Active is false once the last task is done: moving is Active but for the index.
	if r := e.st.Rollout; r != nil && r.TaskIndex >= len(r.Tasks) && e.st.moving() {
		e.finish()
	}
	e.res.Status = e.st
}

// advance moves past the current task; the next one's timeout counts from now.
func (e *engine) advance(t RolloutTask) {
	r := e.st.Rollout
	r.TaskIndex++
	r.StepStarted = e.w.NowMs
	e.res.Steps = append(e.res.Steps, t)
	e.res.Changed = true
}

func (e *engine) finish() {
	r := e.st.Rollout
	r.Finished = e.w.NowMs
	e.res.Changed = true
	if r.RollingBack {
		r.RollingBack, e.st.RolledBack = false, true
		return
	}
	e.st.State, e.res.Ended = GroupDone, GroupDone
}

// failed handles a failed task and tells whether the round goes on: past it while rolling
// back or ignoring failures, into the rollback plan with auto-rollback.
func (e *engine) failed(f *RolloutFailure) bool {
	r := e.st.Rollout
	switch {
	case r.RollingBack:
		e.st.RollbackErrors = append(e.st.RollbackErrors, f.Error())
		e.advance(r.Tasks[r.TaskIndex])
		return true
	case r.Options.Settings().IgnoreFailures:
		e.res.Ignored = append(e.res.Ignored, f)
		e.advance(r.Tasks[r.TaskIndex])
		return true
	}
	e.res.Failure, e.res.Ended, e.res.Changed = f, GroupFailed, true
	e.st = FailRollout(e.st, f.Error(), e.w.NowMs)
	return e.st.Active()
}

// write records a deployment change and applies it to the world, so later tasks of the
// round see it. A later write of the same deployment replaces an earlier one: a deployment
// undeployed then deployed again in one round is simply rewritten.
func (e *engine) write(wr HostWrite) {
	k := wr.Host + "\x00" + string(wr.Job)
	if i, ok := e.pending[k]; ok {
		e.res.Writes[i] = wr
	} else {
		e.pending[k] = len(e.res.Writes)
		e.res.Writes = append(e.res.Writes, wr)
	}
	h := e.w.Hosts[wr.Host]
	if h.Deployments == nil {
		h.Deployments = map[JobID]Deployment{}
	}
	if h.Ports == nil {
		h.Ports = map[string]JobID{}
	}
	for p, holder := range h.Ports {
		if holder == wr.Job {
			delete(h.Ports, p)
		}
	}
	if wr.Deployment == nil {
		delete(h.Deployments, wr.Job)
		return
	}
	h.Deployments[wr.Job] = *wr.Deployment
	if job := e.w.Jobs[wr.Job]; job != nil {
		for _, pm := range job.Ports {
			if pm.IsStatic() {
				h.Ports[PortKey(pm.Proto(), *pm.ExternalPort)] = wr.Job
			}
		}
	}
}

// do runs one task against one host: the writes it makes, or that it must wait, or why it
// failed.
func (e *engine) do(t RolloutTask, h *HostView) (writes []HostWrite, wait bool, fail *RolloutFailure) {
	r := e.st.Rollout
	switch t.Action {
	case ActionUndeployOldJobs:
		return e.undeployOld(t.Target, h, true)
	case ActionForceUndeployJobs:
		if !h.Registered {
			return nil, false, nil // deregistered meanwhile: nothing left to undeploy
		}
		return e.undeployOld(t.Target, h, false)
	case ActionDeployNewJob:
		w, f := e.deployNew(t.Target, h)
		return w, false, f
	case ActionAwaitRunning:
		return e.awaitRunning(t, h)
	case ActionAwaitUndeployed:
		for id := range h.Statuses {
			if _, deployed := h.Deployments[id]; !deployed {
				if e.timedOut() {
					return nil, false, e.fail(t.Target, id, RolloutTimedOutUndeploy, "timed out while waiting for job undeployment")
				}
				return nil, e.waitUntilTimeout(), nil
			}
		}
		return nil, false, nil
	case ActionMarkUndeployed:
		e.st.Removed = slices.DeleteFunc(slices.Clone(e.st.Removed), func(x string) bool { return x == t.Target })
		return nil, false, nil
	case ActionRollbackUndeploy:
		if e.unrestorable(t.Target) {
			return nil, false, nil // the restore reports it: the host keeps the new job
		}
		if d, ok := h.Deployments[r.JobID]; ok && r.Fresh[t.Target] && d.DeploymentGroupName == e.w.Group.Name {
			return []HostWrite{{Host: t.Target, Job: r.JobID}}, false, nil
		}
		return nil, false, nil
	case ActionRollbackRestore:
		return e.restore(t.Target, h)
	}
	return nil, false, e.fail(t.Target, "", "UNKNOWN", fmt.Sprintf("unknown rollout action %q", t.Action))
}

func (e *engine) fail(host string, job JobID, word, msg string) *RolloutFailure {
	return &RolloutFailure{Host: host, Job: job, Word: word, Message: msg}
}

func (e *engine) timedOut() bool {
	r := e.st.Rollout
	return (e.w.NowMs-r.StepStarted)/1000 > r.Options.Settings().Timeout
}

// waitUntilTimeout asks to be woken when the current step times out, and waits.
func (e *engine) waitUntilTimeout() bool {
	r := e.st.Rollout
	e.res.WakeAtMs = r.StepStarted + (r.Options.Settings().Timeout+1)*1000
	return true
}

// undeployOld takes off the host what the group deployed there (and, with migrate, a
// manual deployment of the rollout's job). skipCurrent keeps the group's own running
// deployment of the rollout's job: rolling out what already runs changes nothing.
func (e *engine) undeployOld(host string, h *HostView, skipCurrent bool) ([]HostWrite, bool, *RolloutFailure) {
	if !h.Registered {
		return nil, false, e.fail(host, "", RolloutHostNotFound, "host "+host+" is not registered")
	}
	r, set := e.st.Rollout, e.st.Rollout.Options.Settings()
	var writes []HostWrite
	for _, id := range slices.Sorted(maps.Keys(h.Deployments)) {
		d := h.Deployments[id]
		owned := d.DeploymentGroupName == e.w.Group.Name
		if !owned && !(set.Migrate && id == r.JobID) {
			continue
		}
		if skipCurrent && owned && id == r.JobID && d.Goal == GoalStart {
			continue
		}
		if job := e.w.Jobs[id]; job != nil && job.Token != set.Token {
			return nil, false, e.fail(host, id, RolloutTokenError, "Token verification failed for job "+string(id))
		}
		writes = append(writes, HostWrite{Host: host, Job: id})
		if !r.RollingBack {
			if r.Previous == nil {
				r.Previous = map[string][]Deployment{}
			}
			r.Previous[host] = append(r.Previous[host], d)
		}
	}
	return writes, false, nil
}

func (e *engine) deployNew(host string, h *HostView) ([]HostWrite, *RolloutFailure) {
	r, set := e.st.Rollout, e.st.Rollout.Options.Settings()
	if !h.Registered {
		return nil, e.fail(host, r.JobID, RolloutHostNotFound, "host "+host+" is not registered")
	}
	job := e.w.Jobs[r.JobID]
	if job == nil {
		return nil, e.fail(host, r.JobID, RolloutJobNotFound, "job does not exist: "+string(r.JobID))
	}
	if job.Token != set.Token {
		return nil, e.fail(host, r.JobID, RolloutTokenError, "Token verification failed for job "+string(r.JobID))
	}
	if _, deployed := h.Deployments[r.JobID]; deployed {
		return nil, nil // deployed already, by anyone: AWAIT_RUNNING tells whose it is
	}
	if f := e.portConflict(host, h, job); f != nil {
		return nil, f
	}
	if r.Fresh == nil {
		r.Fresh = map[string]bool{}
	}
	r.Fresh[host] = true
	d := Deployment{JobID: r.JobID, Goal: GoalStart, DeployerMaster: e.w.Master, DeploymentGroupName: e.w.Group.Name}
	return []HostWrite{{Host: host, Job: r.JobID, Deployment: &d}}, nil
}

func (e *engine) portConflict(host string, h *HostView, job *Job) *RolloutFailure {
	for _, name := range slices.Sorted(maps.Keys(job.Ports)) {
		pm := job.Ports[name]
		if !pm.IsStatic() {
			continue
		}
		if holder, taken := h.Ports[PortKey(pm.Proto(), *pm.ExternalPort)]; taken && holder != job.ID {
			return e.fail(host, job.ID, RolloutPortConflict, fmt.Sprintf("Allocation of port %d for job %s collides with job %s on host %s (%s)",
				*pm.ExternalPort, job.ID, holder, host, rolloutPortConflictExplained))
		}
	}
	return nil
}

// awaitRunning waits for the job (the rollout's, or a restored one during a rollback) to be
// RUNNING on the host, deployed by this group.
func (e *engine) awaitRunning(t RolloutTask, h *HostView) ([]HostWrite, bool, *RolloutFailure) {
	id := t.Job
	if id == "" {
		id = e.st.Rollout.JobID
	}
	if t.Job != "" && e.w.Jobs[id] == nil {
		return nil, false, nil // a rollback's job gone since: the restore reported it
	}
	d, deployed := h.Deployments[id]
	ts, reported := h.Statuses[id]
	switch {
	case !deployed:
		return nil, false, e.fail(t.Target, id, RolloutUnexpectedlyUndeploy, "Job unexpectedly undeployed. Perhaps it was manually undeployed?")
	case reported && ts.State == StateRunning:
		if t.Job == "" && d.DeploymentGroupName != e.w.Group.Name {
			return nil, false, e.fail(t.Target, id, RolloutAlreadyDeployed, "job was already deployed, either manually or by a different deployment group")
		}
		return nil, false, nil
	case e.timedOut():
		return nil, false, e.timeoutFailure(t.Target, id, ts, reported, h.History[id])
	}
	return nil, e.waitUntilTimeout(), nil
}

// timeoutFailure words a step that did not reach RUNNING in time, the original's way.
func (e *engine) timeoutFailure(host string, id JobID, ts TaskStatus, reported bool, previous []State) *RolloutFailure {
	if !reported {
		return e.fail(host, id, RolloutTimedOutRunning, "timed out while retrieving job status")
	}
	base := fmt.Sprintf("timed out waiting for job %s to reach state RUNNING ", id)
	info := fmt.Sprintf("(terminal job state %s)", ts.State)
	if len(previous) > 0 {
		words := make([]string, len(previous))
		for i, st := range previous {
			words[i] = string(st)
		}
		info = fmt.Sprintf("(terminal job state %s, previous states: %s)", ts.State, strings.Join(words, "->"))
	}
	switch ts.Throttled {
	case ThrottleImageMissing:
		return e.fail(host, id, RolloutImageMissing, base+"due to missing Docker image "+info)
	case ThrottleImagePullFailed:
		return e.fail(host, id, RolloutImagePullFailed, base+"due to failure pulling Docker image "+info)
	}
	msg := base + info
	if ts.ContainerError != "" {
		msg += " container error: " + ts.ContainerError
	}
	return e.fail(host, id, RolloutTimedOutRunning, msg)
}

// clone copies the status deeply enough that the engine can change it.
func (s GroupStatus) clone() GroupStatus {
	s.Hosts, s.Removed, s.RollbackErrors = slices.Clone(s.Hosts), slices.Clone(s.Removed), slices.Clone(s.RollbackErrors)
	if s.Rollout != nil {
		r := *s.Rollout
		r.Tasks = slices.Clone(r.Tasks)
		r.Fresh = maps.Clone(r.Fresh)
		r.Previous = map[string][]Deployment{}
		for h, ds := range s.Rollout.Previous {
			r.Previous[h] = slices.Clone(ds)
		}
		s.Rollout = &r
	}
	return s
}
