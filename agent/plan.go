package agent

import (
	"fmt"
	"sort"
	"time"

	"github.com/helios-go/helios/model"
)

// desiredTask is one deployment of this host with its job.
type desiredTask struct {
	Job      *model.Job // nil when the job could not be read: the task is then left alone
	Goal     model.Goal
	SpecHash string // of the container the job should run in now
}

// planInput is everything plan looks at.
type planInput struct {
	Desired      map[model.JobID]desiredTask
	Containers   []Container                      // this host's helios containers, running or not
	Reported     map[model.JobID]model.TaskStatus // task statuses as last written to etcd
	Now          time.Time
	RestartDelay time.Duration
	// Checking holds the containers whose health-check supervisor runs: it owns their
	// status until the check passes or the container dies.
	Checking map[string]bool
	// Throttle is each task's throttle now (absent: NO); Flapping the tasks whose restarts
	// wait FlappingDelay instead of RestartDelay.
	Throttle      map[model.JobID]model.ThrottleState
	Flapping      map[model.JobID]bool
	FlappingDelay time.Duration
	// Busy holds the jobs whose earlier actions are still being applied: they get no new
	// ones until done (their worker asks for another pass). StartBackoff holds, per job,
	// until when a start that failed must not be tried again.
	Busy         map[model.JobID]bool
	StartBackoff map[model.JobID]time.Time
	// ErrorBackoff holds, per job, until when nothing is tried after an action failed
	// (other than a start, which has StartBackoff): its delay doubles with each failure.
	ErrorBackoff map[model.JobID]time.Time
	// Discovery is on (the agent has a domain and a registrar); Published holds, per job,
	// the container whose endpoints are published (discovery.go).
	Discovery bool
	Published map[model.JobID]string
}

type actionKind string

const (
	// actStart creates and starts a container for the job; if ContainerID is set, that
	// container is stopped and removed first (a restart or a recreate).
	actStart actionKind = "start"
	// actStop stops ContainerID, keeping it, reporting STOPPING then STOPPED.
	actStop actionKind = "stop"
	// actRemove stops and removes ContainerID. With Undeploy it reports STOPPING (when
	// Stopping) and STOPPED (when Stopped) around the stop, and deletes the task status
	// afterwards.
	actRemove actionKind = "remove"
	// actReport writes State for the job without touching containers.
	actReport actionKind = "report"
	// actDeleteStatus deletes the job's task status.
	actDeleteStatus actionKind = "delete-status"
	// actWait asks for another reconcile After from now (a restart delay running out).
	actWait actionKind = "wait"
	// actHealthcheck starts the health-check supervisor of the running ContainerID.
	actHealthcheck actionKind = "healthcheck"
	// actPublish publishes the endpoints of the running, healthy ContainerID; actWithdraw
	// withdraws the job's, first waiting for DNS to drop them when Drain (discovery.go).
	actPublish  actionKind = "publish"
	actWithdraw actionKind = "withdraw"
)

// action is one step of a plan: what apply carries out, with every choice already made.
// Reason says why, for logs and helios_agent_actions_total.
type action struct {
	Kind        actionKind
	JobID       model.JobID
	ContainerID string
	Goal        model.Goal
	State       model.State   // actReport
	Error       string        // actReport: the status's containerError (EXITED, FAILED)
	Undeploy    bool          // actRemove
	Stopping    bool          // actRemove with Undeploy: the container runs; report STOPPING, stop it
	Stopped     bool          // actRemove with Undeploy: report STOPPED before removing
	After       time.Duration // actWait
	Drain       bool          // actWithdraw: a stop follows; wait for DNS, then the grace period
	Reason      reason
}

func (a action) String() string {
	s := fmt.Sprintf("%s job=%s", a.Kind, a.JobID)
	if a.ContainerID != "" {
		s += " container=" + short(a.ContainerID)
	}
	if a.State != "" {
		s += " state=" + string(a.State)
	}
	return s + ": " + string(a.Reason)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// plan compares what should run with what runs and returns what to do. It is pure: the
// loop feeds it fresh observations each time, so a missed event only delays convergence.
// Actions for one job come in the order they must be applied.
func plan(in planInput) []action {
	byJob := map[model.JobID][]Container{}
	for _, c := range in.Containers {
		id := model.JobID(c.JobID())
		byJob[id] = append(byJob[id], c)
	}
	ids := map[model.JobID]bool{}
	for id := range in.Desired {
		ids[id] = true
	}
	for id := range byJob {
		ids[id] = true
	}
	for id := range in.Reported {
		ids[id] = true
	}
	for id := range in.Published {
		ids[id] = true
	}
	sorted := make([]model.JobID, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })

	var out []action
	for _, id := range sorted {
		out = append(out, planJob(in, id, byJob[id])...)
	}
	return out
}

func planJob(in planInput, id model.JobID, cs []Container) []action {
	if in.Busy[id] {
		return nil // its worker asks for another pass when done
	}
	out := discoveryActions(in, id, cs, planTask(in, id, cs))
	if until := in.ErrorBackoff[id]; len(out) > 0 && in.Now.Before(until) {
		return []action{{Kind: actWait, JobID: id, Goal: out[0].Goal, After: until.Sub(in.Now), Reason: reasonErrorBackoff}}
	}
	// A start that failed lately waits out its back-off, and so does all that follows it.
	if until := in.StartBackoff[id]; in.Now.Before(until) {
		for i, act := range out {
			if act.Kind == actStart {
				return append(out[:i], action{Kind: actWait, JobID: id, ContainerID: act.ContainerID, Goal: act.Goal,
					After: until.Sub(in.Now), Reason: reasonStartBackoff})
			}
		}
	}
	return out
}

func planTask(in planInput, id model.JobID, cs []Container) []action {
	d, wanted := in.Desired[id]
	rep, reported := in.Reported[id]
	if wanted && d.Job == nil {
		return nil // deployment without a readable job: do nothing rather than guess
	}
	if !wanted || d.Goal == model.GoalUndeploy {
		var out []action
		why := reasonNoDeployment
		if wanted {
			why = reasonGoalUndeploy
		}
		if !reported && !wanted {
			why = reasonUnknownContainer
		}
		for i, c := range cs {
			// Report the stop of the container the status speaks of; reap the rest quietly.
			undeploy := reported && (c.ID == rep.ContainerID || i == len(cs)-1)
			act := action{Kind: actRemove, JobID: id, ContainerID: c.ID, Goal: model.GoalUndeploy, Undeploy: undeploy, Reason: why}
			if undeploy {
				// STOPPING only if it runs; STOPPED unless already reported so.
				act.Stopping = c.Running
				act.Stopped = c.Running || rep.State != model.StateStopped
				reported = false // the remove deletes the status
			}
			out = append(out, act)
		}
		if reported {
			out = append(out, action{Kind: actDeleteStatus, JobID: id, Reason: reasonNoContainerLeft})
		}
		return out
	}

	// Keep the newest running container (else the newest); extra ones are reaped.
	var cur *Container
	for i := range cs {
		c := &cs[i]
		if cur == nil || (c.Running && !cur.Running) || (c.Running == cur.Running && c.Created.After(cur.Created)) {
			cur = c
		}
	}
	var out []action
	for _, c := range cs {
		if c.ID != cur.ID {
			out = append(out, action{Kind: actRemove, JobID: id, ContainerID: c.ID, Goal: d.Goal, Reason: reasonExtraContainer})
		}
	}
	throttle := in.Throttle[id]
	if throttle == "" {
		throttle = model.ThrottleNo
	}
	needs := func(st model.State, cid string) bool {
		return !reported || rep.State != st || rep.ContainerID != cid || rep.Goal != d.Goal ||
			(rep.Throttled != throttle && !(rep.Throttled == "" && throttle == model.ThrottleNo))
	}

	switch d.Goal {
	case model.GoalStop:
		switch {
		case cur != nil && cur.Running:
			out = append(out, action{Kind: actStop, JobID: id, ContainerID: cur.ID, Goal: d.Goal, Reason: reasonGoalStop})
		case cur != nil:
			if needs(model.StateStopped, cur.ID) {
				out = append(out, action{Kind: actReport, JobID: id, ContainerID: cur.ID, Goal: d.Goal, State: model.StateStopped, Reason: reasonStoppedNotRunning})
			}
		default:
			if needs(model.StateStopped, "") {
				out = append(out, action{Kind: actReport, JobID: id, Goal: d.Goal, State: model.StateStopped, Reason: reasonStoppedNoCtr})
			}
		}
		return out
	}

	// Goal START.
	switch {
	case cur == nil:
		out = append(out, action{Kind: actStart, JobID: id, Goal: d.Goal, Reason: reasonNoContainer})
	case cur.Labels[LabelSpecHash] != d.SpecHash:
		out = append(out, action{Kind: actStart, JobID: id, ContainerID: cur.ID, Goal: d.Goal, Reason: reasonSpecChanged})
	case in.Checking[cur.ID]:
		// Its supervisor reports RUNNING, or FAILED if it died, and pokes the loop.
	case cur.Running && d.Job.HealthCheck != nil && !(reported && rep.ContainerID == cur.ID && rep.State == model.StateRunning):
		out = append(out, action{Kind: actHealthcheck, JobID: id, ContainerID: cur.ID, Goal: d.Goal, Reason: reasonHealthcheck})
	case cur.Running:
		if needs(model.StateRunning, cur.ID) {
			out = append(out, action{Kind: actReport, JobID: id, ContainerID: cur.ID, Goal: d.Goal, State: model.StateRunning, Reason: reasonAdopt})
		}
	default:
		if reported && rep.ContainerID == cur.ID && rep.State == model.StateHealthchecking {
			// Its supervisor is gone (agent restarted): report what it would have.
			out = append(out, action{Kind: actReport, JobID: id, ContainerID: cur.ID, Goal: d.Goal, State: model.StateFailed,
				Error: fmt.Sprintf("container exited with code %d during health check", cur.ExitCode), Reason: reasonDiedHealthcheck})
		} else if reported && rep.ContainerID == cur.ID && isLive(rep.State) {
			out = append(out, action{Kind: actReport, JobID: id, ContainerID: cur.ID, Goal: d.Goal, State: model.StateExited,
				Error: fmt.Sprintf("exit code %d", cur.ExitCode), Reason: reasonExited})
		}
		delay, why := in.RestartDelay, reasonRestartDelay
		if in.Flapping[id] {
			delay, why = in.FlappingDelay, reasonFlappingDelay
		}
		if wait := cur.FinishedAt.Add(delay).Sub(in.Now); !cur.FinishedAt.IsZero() && wait > 0 {
			out = append(out, action{Kind: actWait, JobID: id, ContainerID: cur.ID, Goal: d.Goal, After: wait, Reason: why})
		} else {
			out = append(out, action{Kind: actStart, JobID: id, ContainerID: cur.ID, Goal: d.Goal, Reason: reasonRestartExited})
		}
	}
	return out
}

// isLive tells whether a reported state means the container was (about to be) running.
func isLive(s model.State) bool {
	switch s {
	case model.StateCreating, model.StateStarting, model.StateHealthchecking, model.StateRunning:
		return true
	}
	return false
}
