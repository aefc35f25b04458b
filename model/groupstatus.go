package model

import "slices"

// More rollout actions. The original's for hosts that left the group, then ours.
const (
	// ActionForceUndeployJobs undeploys everything the group deployed on a host that left it.
	ActionForceUndeployJobs RolloutAction = "FORCE_UNDEPLOY_JOBS"
	// ActionAwaitUndeployed waits until the host no longer reports the group's job.
	ActionAwaitUndeployed RolloutAction = "AWAIT_UNDEPLOYED"
	// ActionMarkUndeployed forgets a host that left the group once its job is gone.
	ActionMarkUndeployed RolloutAction = "MARK_UNDEPLOYED"
	// ActionAwaitPromotion pauses a canary rollout until the group is promoted.
	ActionAwaitPromotion RolloutAction = "AWAIT_PROMOTION"
	// ActionRollbackUndeploy takes the new job off a host a failed rollout deployed it on.
	ActionRollbackUndeploy RolloutAction = "ROLLBACK_UNDEPLOY"
	// ActionRollbackRestore puts back the deployments a failed rollout took off a host.
	ActionRollbackRestore RolloutAction = "ROLLBACK_RESTORE"
)

// GroupStatus is the stored state of a deployment group, one etcd key written by the
// controller's leader (and by the masters for a rolling update, stop and promote): the
// group's member hosts and its current or last rollout.
type GroupStatus struct {
	State   GroupState `json:"state,omitempty"` // "" until the first rollout: IDLE
	Error   string     `json:"error,omitempty"`
	Hosts   []string   `json:"hosts"`             // members, in natural order
	Removed []string   `json:"removed,omitempty"` // former members whose job is still to undeploy
	Rollout *Rollout   `json:"rollout,omitempty"` // the current or last rollout

	RolledBack     bool     `json:"rolledBack,omitempty"`
	RollbackErrors []string `json:"rollbackErrors,omitempty"`
}

// Rollout is one rolling update of a group: its plan and how far it got. Each step's writes
// and the advance of TaskIndex are committed together, so whoever leads next resumes at
// TaskIndex and no step runs twice.
type Rollout struct {
	JobID       JobID               `json:"jobId"`
	Reason      RollingUpdateReason `json:"reason"`
	Options     RolloutOptions      `json:"options"` // resolved: request > job > defaults
	Tasks       []RolloutTask       `json:"tasks"`
	TaskIndex   int                 `json:"taskIndex"`
	StepStarted int64               `json:"stepStarted"` // ms; a step's timeout counts from here
	Started     int64               `json:"started"`     // ms
	Finished    int64               `json:"finished,omitempty"`

	// What the rollout changed, so a failure can be rolled back: per host, the
	// deployments UNDEPLOY_OLD_JOBS took off, and the hosts DEPLOY_NEW_JOB deployed on.
	Previous    map[string][]Deployment `json:"previous,omitempty"`
	Fresh       map[string]bool         `json:"fresh,omitempty"`
	RollingBack bool                    `json:"rollingBack,omitempty"`
}

// Active tells whether the leader has work to do for the group: a rollout running or
// rolling back. A PAUSED rollout waits for a promotion instead.
func (s GroupStatus) Active() bool {
	return s.moving() && s.Rollout.TaskIndex < len(s.Rollout.Tasks)
}

// moving tells whether a rollout or its rollback is under way, whether or not tasks remain.
func (s GroupStatus) moving() bool {
	return s.Rollout != nil && (s.State == GroupRollingOut || (s.State == GroupFailed && s.Rollout.RollingBack))
}

// Busy tells whether a rollout is under way (running, paused or rolling back): host
// changes wait until it ends, as in the original.
func (s GroupStatus) Busy() bool { return s.Active() || s.State == GroupPaused }

// ReportedState is the state the API shows: IDLE before any rollout.
func (s GroupStatus) ReportedState() GroupState {
	if s.State == "" {
		return GroupIdle
	}
	return s.State
}

// StartRollout plans a rollout of job over the group's members that are up (skipping those
// that are down, as the original does), after undeploying the group's job from removed hosts
// that are up, and returns the group's new status. options must be resolved. An empty plan
// is DONE at once.
func StartRollout(prev GroupStatus, job JobID, reason RollingUpdateReason, options RolloutOptions, up func(host string) bool, nowMs int64) GroupStatus {
	set := options.Settings()
	var members, removed []string
	for _, h := range prev.Hosts {
		if up(h) {
			members = append(members, h)
		}
	}
	for _, h := range prev.Removed {
		if up(h) && !slices.Contains(members, h) {
			removed = append(removed, h)
		}
	}
	SortNatural(members)
	SortNatural(removed)
	tasks := planUndeploy(removed, set.Parallelism)
	if c := set.Canary; c > 0 && c < len(members) {
		tasks = append(tasks, PlanRollout(members[:c], set.Parallelism, set.Overlap)...)
		tasks = append(tasks, RolloutTask{Action: ActionAwaitPromotion})
		tasks = append(tasks, PlanRollout(members[c:], set.Parallelism, set.Overlap)...)
	} else {
		tasks = append(tasks, PlanRollout(members, set.Parallelism, set.Overlap)...)
	}
	next := GroupStatus{
		State:   GroupRollingOut,
		Hosts:   prev.Hosts,
		Removed: prev.Removed,
		Rollout: &Rollout{JobID: job, Reason: reason, Options: options, Tasks: tasks, StepStarted: nowMs, Started: nowMs},
	}
	if len(tasks) == 0 {
		next.State, next.Rollout.Finished = GroupDone, nowMs
	}
	return next
}

// planUndeploy is the original's plan for hosts that left the group: in batches, undeploy
// the group's jobs on each, then per host wait until they are gone and forget the host.
func planUndeploy(hosts []string, parallelism int) []RolloutTask {
	parallelism = max(parallelism, 1)
	var tasks []RolloutTask
	for start := 0; start < len(hosts); start += parallelism {
		batch := hosts[start:min(start+parallelism, len(hosts))]
		tasks = appendTasks(tasks, ActionForceUndeployJobs, batch)
		for _, h := range batch {
			tasks = append(tasks, RolloutTask{Action: ActionAwaitUndeployed, Target: h}, RolloutTask{Action: ActionMarkUndeployed, Target: h})
		}
	}
	return tasks
}

// UpdateMembers is what the group's status becomes when the registered hosts whose labels
// match its selectors are matching. A matching host joins once it is up (an agent writes
// its labels just before it comes up, and a member that is down would be skipped by the
// rollout its joining starts); a member that goes down stays a member. Hosts that left join
// Removed until their job is undeployed; hosts no longer registered are forgotten. It
// reports whether anything changed.
func UpdateMembers(prev GroupStatus, matching []string, registered, up func(string) bool) (GroupStatus, bool) {
	var members []string
	for _, h := range matching {
		if up(h) || slices.Contains(prev.Hosts, h) {
			members = append(members, h)
		}
	}
	SortNatural(members)
	matching = members
	var removed []string
	for _, h := range append(slices.Clone(prev.Hosts), prev.Removed...) {
		if !slices.Contains(matching, h) && registered(h) && !slices.Contains(removed, h) {
			removed = append(removed, h)
		}
	}
	SortNatural(removed)
	if slices.Equal(prev.Hosts, matching) && slices.Equal(prev.Removed, removed) {
		return prev, false
	}
	next := prev
	next.Hosts, next.Removed = slices.Clone(matching), removed
	return next, true
}

// RollOnHostChange tells whether a change of members starts a rollout, as in the original:
// the group has a job, and its last rollout did not fail, or failed on a host change
// (a manual rollout that failed or was stopped is left for the user to retry).
func RollOnHostChange(g DeploymentGroup, s GroupStatus) bool {
	if g.JobID == "" {
		return false
	}
	if s.State != GroupFailed {
		return true
	}
	return s.Rollout != nil && s.Rollout.Reason == ReasonHostsChanged
}
