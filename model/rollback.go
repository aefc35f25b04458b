package model

import (
	"fmt"
	"slices"
	"strings"
)

// FailRollout ends a rollout as FAILED with err (a step's failure, or StoppedByUser). With
// auto-rollback the hosts it changed are then put back, in the rollout's order and with its
// parallelism; the status stays FAILED with err throughout.
func FailRollout(s GroupStatus, err string, nowMs int64) GroupStatus {
	s = s.clone()
	s.State, s.Error = GroupFailed, err
	r := s.Rollout
	if r == nil {
		return s
	}
	r.Finished = nowMs
	if r.RollingBack || !r.Options.Settings().AutoRollback {
		return s
	}
	var hosts []string
	for _, t := range r.Tasks {
		if (len(r.Previous[t.Target]) > 0 || r.Fresh[t.Target]) && !slices.Contains(hosts, t.Target) {
			hosts = append(hosts, t.Target)
		}
	}
	if len(hosts) == 0 {
		return s // nothing changed, nothing to put back (and no empty rollback left to finish)
	}
	r.Tasks, r.TaskIndex, r.StepStarted, r.Finished, r.RollingBack = planRollback(hosts, r), 0, nowMs, 0, true
	return s
}

func planRollback(hosts []string, r *Rollout) []RolloutTask {
	par := max(r.Options.Settings().Parallelism, 1)
	var tasks []RolloutTask
	for start := 0; start < len(hosts); start += par {
		batch := hosts[start:min(start+par, len(hosts))]
		for _, h := range batch {
			tasks = append(tasks, RolloutTask{ActionRollbackUndeploy, h, ""}, RolloutTask{ActionRollbackRestore, h, ""})
		}
		for _, h := range batch {
			for _, d := range r.Previous[h] {
				if d.Goal == GoalStart || d.Goal == "" {
					tasks = append(tasks, RolloutTask{ActionAwaitRunning, h, d.JobID})
				}
			}
		}
	}
	return tasks
}

// StopRollout is what POST /deployment-group/{name}/stop makes of a status: FAILED,
// "Stopped by user", and a rollback when the rollout asked for one.
func StopRollout(s GroupStatus, nowMs int64) GroupStatus {
	if s.Rollout != nil && s.Rollout.RollingBack {
		return s.clone() // a rollback is not stopped half way
	}
	if s.State != GroupRollingOut && s.State != GroupPaused {
		// Nothing under way: the group only becomes FAILED, as in the original. A
		// finished rollout is not undone.
		s = s.clone()
		s.State, s.Error = GroupFailed, StoppedByUser
		return s
	}
	return FailRollout(s, StoppedByUser, nowMs)
}

// PromoteRollout resumes a PAUSED canary rollout past its pause; ok is false when the group
// is not paused.
func PromoteRollout(s GroupStatus, nowMs int64) (GroupStatus, bool) {
	r := s.Rollout
	if s.State != GroupPaused || r == nil || r.TaskIndex >= len(r.Tasks) || r.Tasks[r.TaskIndex].Action != ActionAwaitPromotion {
		return s, false
	}
	s = s.clone()
	s.State = GroupRollingOut
	s.Rollout.TaskIndex++
	s.Rollout.StepStarted = nowMs
	return s, true
}

// restore puts back on the host what the failed rollout took off it. A job removed since
// is reported and the host left as it is.
func (e *engine) restore(host string, h *HostView) ([]HostWrite, bool, *RolloutFailure) {
	var writes []HostWrite
	var problems []string
	left := e.unrestorable(host) // then nothing is put back either
	for _, d := range e.st.Rollout.Previous[host] {
		job := e.w.Jobs[d.JobID]
		switch {
		case job == nil:
			problems = append(problems, fmt.Sprintf("job %s no longer exists; host left as it is", d.JobID))
			continue
		case left || h.Deployments[d.JobID] == d:
			continue
		}
		if f := e.portConflict(host, h, job); f != nil {
			problems = append(problems, f.Word+": "+f.Message)
			continue
		}
		d := d
		writes = append(writes, HostWrite{Host: host, Job: d.JobID, Deployment: &d})
	}
	if len(problems) > 0 {
		e.st.RollbackErrors = append(e.st.RollbackErrors, host+": "+strings.Join(problems, "; "))
	}
	return writes, false, nil
}

// unrestorable tells whether a job the rollout took off the host no longer exists: the
// rollback then leaves the host as it is, rather than running nothing.
func (e *engine) unrestorable(host string) bool {
	for _, d := range e.st.Rollout.Previous[host] {
		if e.w.Jobs[d.JobID] == nil {
			return true
		}
	}
	return false
}
