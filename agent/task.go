package agent

import (
	"time"

	"github.com/helios-go/helios/model"
)

// task is everything the agent keeps about one job on this host (Nomad's task runner owns
// its task's state the same way). Tasks are created by taskLocked and deleted only by
// forgetIdleLocked, so a job that is gone leaves nothing behind. Guarded by Agent.mu.
type task struct {
	reported      *model.TaskStatus   // the status as last written (or read at join); nil: none
	busy          bool                // a worker is applying the job's actions
	startBackoff  time.Time           // a start that failed is not tried again before then
	runs          runLog              // the last runs' durations, for flapping
	flapping      bool                // see flapping.go
	imageThrottle model.ThrottleState // IMAGE_MISSING, IMAGE_PULL_FAILED, or ""
	checkers      map[string]*checker // health-check supervisors, by container
	watching      map[string]bool     // containers with an exit watcher
	failures      int                 // actions failed in a row; reset by one that succeeds
	retryAt       time.Time           // after a failed action (not a start), nothing is tried before then
	outbox        []pendingOp         // status writes not yet handed to etcd, in order (writer.go)
	writing       bool                // the task's writer goroutine runs
	lastStatusAt  time.Time           // time of the last status set, so events sort in order
	untrimmed     bool                // history events written since the last trim

	// What the last pass planned for the job's worker to apply (nil: nothing queued), with
	// what the plan saw: the deployment, the status and the host ports in use.
	planned     []action
	plannedFor  desiredTask
	plannedRep  model.TaskStatus
	plannedUsed map[portKey]bool
}

// throttle is the task's throttle now: an image failure wins over flapping.
func (t *task) throttle() model.ThrottleState { return throttleOf(t.imageThrottle, t.flapping) }

// idle tells whether the task holds nothing that outlives its job: no status, no goroutine.
func (t *task) idle() bool {
	return t.reported == nil && !t.busy && t.planned == nil && len(t.checkers) == 0 && len(t.watching) == 0 &&
		!t.writing && len(t.outbox) == 0
}

// taskLocked returns the job's task, creating it. Callers hold mu.
func (a *Agent) taskLocked(id model.JobID) *task {
	t := a.tasks[id]
	if t == nil {
		t = &task{checkers: map[string]*checker{}, watching: map[string]bool{}}
		a.tasks[id] = t
	}
	return t
}

// forgetIdleLocked deletes the tasks of jobs that are neither deployed nor have a container
// (live lists them) once nothing of theirs is left running. Callers hold mu.
func (a *Agent) forgetIdleLocked(live map[model.JobID]bool) {
	for id, t := range a.tasks {
		if !live[id] && t.idle() {
			delete(a.tasks, id)
		}
	}
}

// forgetReportedLocked drops what was reported of a job whose status was deleted
// (undeployed): a later deployment of it starts afresh. Callers hold mu.
func (a *Agent) forgetReportedLocked(id model.JobID) {
	if t := a.tasks[id]; t != nil {
		t.reported, t.startBackoff, t.imageThrottle, t.runs = nil, time.Time{}, "", runLog{}
	}
}

// snapshotLocked copies what plan needs of the tasks. Callers hold mu.
func (a *Agent) snapshotLocked() taskSnapshot {
	s := taskSnapshot{
		reported: map[model.JobID]model.TaskStatus{}, busy: map[model.JobID]bool{}, checking: map[string]bool{},
		throttle: map[model.JobID]model.ThrottleState{}, flapping: map[model.JobID]bool{}, backoff: map[model.JobID]time.Time{},
		retryAt: map[model.JobID]time.Time{},
	}
	for id, t := range a.tasks {
		if t.reported != nil {
			s.reported[id] = *t.reported
		}
		if t.busy || t.planned != nil {
			s.busy[id] = true // queued or being worked on
		}
		if !t.retryAt.IsZero() {
			s.retryAt[id] = t.retryAt
		}
		for cid := range t.checkers {
			s.checking[cid] = true
		}
		if th := t.throttle(); th != model.ThrottleNo {
			s.throttle[id] = th
		}
		if t.flapping {
			s.flapping[id] = true
		}
		if !t.startBackoff.IsZero() {
			s.backoff[id] = t.startBackoff
		}
	}
	return s
}

// taskSnapshot is the tasks' state at one moment, in plan's terms.
type taskSnapshot struct {
	reported map[model.JobID]model.TaskStatus
	busy     map[model.JobID]bool
	checking map[string]bool
	throttle map[model.JobID]model.ThrottleState
	flapping map[model.JobID]bool
	backoff  map[model.JobID]time.Time
	retryAt  map[model.JobID]time.Time
}
