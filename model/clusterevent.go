package model

import (
	"encoding/json"
	"slices"
)

// KeyKind names what a changed etcd key holds, as far as the cluster event stream cares.
// The store reads it off the key (it alone knows the layout); ClusterEventOf decides what
// the change means.
type KeyKind string

// Kinds of keys the event stream reports on.
const (
	KeyJob        KeyKind = "job"        // a job definition
	KeyDeployment KeyKind = "deployment" // a job deployed on a host
	KeyHostID     KeyKind = "host-id"    // a host's registration
	KeyHostUp     KeyKind = "host-up"    // the key an agent holds while it runs
	// KeyRestoreSuspected is an agent's report that it holds back after a suspected etcd
	// restore.
	KeyRestoreSuspected KeyKind = "restore-suspected"
	KeyTaskStatus       KeyKind = "task-status"  // what an agent reports of a task
	KeyGroup            KeyKind = "group"        // a deployment group definition
	KeyGroupStatus      KeyKind = "group-status" // a deployment group's rollout state
	KeyMaster           KeyKind = "master"       // a live master's registration
)

// KeyChange is one write or delete of a key the event stream knows, at an etcd revision.
// Prev is the value before the change: nil when the key did not exist.
type KeyChange struct {
	Kind     KeyKind
	Delete   bool
	Host     string
	Job      JobID
	Name     string // of a deployment group or a master
	Value    []byte
	Prev     []byte
	Revision int64
}

// ClusterEventType is the word that says what happened.
type ClusterEventType string

// Cluster event types. The STREAM_* ones are not changes: a stream's last line says
// with them why the master ended it.
const (
	EventJobCreated       ClusterEventType = "JOB_CREATED"
	EventJobRemoved       ClusterEventType = "JOB_REMOVED"
	EventDeployed         ClusterEventType = "DEPLOYED"
	EventUndeployed       ClusterEventType = "UNDEPLOYED"
	EventGoalChanged      ClusterEventType = "GOAL_CHANGED"
	EventTaskState        ClusterEventType = "TASK_STATE"
	EventHostUp           ClusterEventType = "HOST_UP"
	EventHostDown         ClusterEventType = "HOST_DOWN"
	EventHostRegistered   ClusterEventType = "HOST_REGISTERED"
	EventHostDeregistered ClusterEventType = "HOST_DEREGISTERED"
	// A host's agent starts holding back after a suspected etcd restore, or stops (the
	// restore accepted): its report appears or goes.
	EventHostRestoreSuspected ClusterEventType = "HOST_RESTORE_SUSPECTED"
	EventHostRestoreCleared   ClusterEventType = "HOST_RESTORE_CLEARED"
	EventGroupCreated         ClusterEventType = "GROUP_CREATED"
	EventGroupRemoved         ClusterEventType = "GROUP_REMOVED"
	EventGroupStatus          ClusterEventType = "GROUP_STATUS"
	EventMasterUp             ClusterEventType = "MASTER_UP"
	EventMasterDown           ClusterEventType = "MASTER_DOWN"

	// EventStreamCut ends the stream of a client that did not keep up.
	EventStreamCut ClusterEventType = "STREAM_CUT"
	// EventStreamCompacted ends a stream whose revisions etcd compacted away while it
	// replayed them: the client starts afresh, without fromRevision.
	EventStreamCompacted ClusterEventType = "STREAM_COMPACTED"
	// EventStreamReset ends every stream when the master's own watch lost its place.
	EventStreamReset ClusterEventType = "STREAM_RESET"
)

// ClusterEventTypes is every event type, for metrics that start each type's series at zero.
func ClusterEventTypes() []ClusterEventType {
	return []ClusterEventType{EventJobCreated, EventJobRemoved, EventDeployed, EventUndeployed, EventGoalChanged,
		EventTaskState, EventHostUp, EventHostDown, EventHostRegistered, EventHostDeregistered,
		EventHostRestoreSuspected, EventHostRestoreCleared, EventGroupCreated,
		EventGroupRemoved, EventGroupStatus, EventMasterUp, EventMasterDown, EventStreamCut, EventStreamCompacted,
		EventStreamReset}
}

// Terminal tells whether t is a STREAM_* event, the last line of a stream.
func (t ClusterEventType) Terminal() bool {
	return t == EventStreamCut || t == EventStreamCompacted || t == EventStreamReset
}

// ClusterEvent is one line of GET /events. Revision and Index order events: Index counts
// the events of one revision (one etcd transaction can make several), from 0.
type ClusterEvent struct {
	Revision int64            `json:"revision"`
	Index    int              `json:"index"`
	Time     int64            `json:"time"` // ms since the epoch, when the master saw it
	Type     ClusterEventType `json:"type"`
	Host     string           `json:"host,omitempty"`
	JobID    JobID            `json:"jobId,omitempty"`
	Group    string           `json:"group,omitempty"`
	Master   string           `json:"master,omitempty"`
	Payload  *EventPayload    `json:"payload,omitempty"`
	Message  string           `json:"message,omitempty"` // of STREAM_* events
}

// After tells whether e comes after revision rev, index idx.
func (e ClusterEvent) After(rev int64, idx int) bool {
	return e.Revision > rev || e.Revision == rev && e.Index > idx
}

// EventPayload is the little an event tells beyond its names. It never holds a job token.
type EventPayload struct {
	Image         string     `json:"image,omitempty"`         // JOB_CREATED
	Goal          Goal       `json:"goal,omitempty"`          // DEPLOYED, GOAL_CHANGED, TASK_STATE
	PreviousGoal  Goal       `json:"previousGoal,omitempty"`  // GOAL_CHANGED
	State         State      `json:"state,omitempty"`         // TASK_STATE
	PreviousState State      `json:"previousState,omitempty"` // TASK_STATE
	ContainerID   string     `json:"containerId,omitempty"`   // TASK_STATE
	Error         string     `json:"error,omitempty"`         // TASK_STATE, GROUP_STATUS
	GroupState    GroupState `json:"groupState,omitempty"`    // GROUP_STATUS
	RolloutJobID  JobID      `json:"rolloutJobId,omitempty"`  // GROUP_STATUS
	TaskIndex     int        `json:"taskIndex,omitempty"`     // GROUP_STATUS: steps done
	Tasks         int        `json:"tasks,omitempty"`         // GROUP_STATUS: steps planned
}

// ClusterEventOf says what a key change means to an operator; ok is false for a change
// that is not worth an event (a job's deployment rewritten with the same goal, a task
// status refreshed in the same state, a group status whose rollout did not move). Values
// that do not decode still make their event, without a payload. Revision is set; Index
// and Time are the caller's.
func ClusterEventOf(c KeyChange) (ClusterEvent, bool) {
	ev := ClusterEvent{Revision: c.Revision, Host: c.Host, JobID: c.Job}
	created := c.Prev == nil
	switch c.Kind {
	case KeyJob:
		switch {
		case c.Delete:
			ev.Type = EventJobRemoved
		case created:
			ev.Type = EventJobCreated
			var j Job
			if json.Unmarshal(c.Value, &j) == nil && j.Image != "" {
				ev.Payload = &EventPayload{Image: j.Image}
			}
		default:
			return ev, false // definitions are written once
		}
	case KeyDeployment:
		var now, before Deployment
		nowOK := !c.Delete && json.Unmarshal(c.Value, &now) == nil
		beforeOK := !created && json.Unmarshal(c.Prev, &before) == nil
		switch {
		case c.Delete:
			ev.Type = EventUndeployed
		case created:
			ev.Type = EventDeployed
			if nowOK {
				ev.Payload = &EventPayload{Goal: now.Goal}
			}
		case nowOK && beforeOK && now.Goal == before.Goal:
			return ev, false
		default:
			ev.Type = EventGoalChanged
			if nowOK {
				ev.Payload = &EventPayload{Goal: now.Goal}
				if beforeOK {
					ev.Payload.PreviousGoal = before.Goal
				}
			}
		}
	case KeyHostID:
		switch {
		case c.Delete:
			ev.Type = EventHostDeregistered
		case created || string(c.Prev) != string(c.Value):
			ev.Type = EventHostRegistered
		default:
			return ev, false
		}
	case KeyHostUp:
		switch {
		case c.Delete:
			ev.Type = EventHostDown
		case created:
			ev.Type = EventHostUp
		default:
			return ev, false
		}
	case KeyRestoreSuspected:
		switch {
		case c.Delete:
			ev.Type = EventHostRestoreCleared
		case created:
			ev.Type = EventHostRestoreSuspected
		default:
			return ev, false // the same suspicion, its counts updated
		}
	case KeyTaskStatus:
		if c.Delete {
			return ev, false // the undeploy that caused it has its own event
		}
		var now, before TaskStatus
		if json.Unmarshal(c.Value, &now) != nil {
			ev.Type = EventTaskState
			return ev, true
		}
		beforeOK := !created && json.Unmarshal(c.Prev, &before) == nil
		if beforeOK && now.State == before.State && now.Goal == before.Goal && now.ContainerError == before.ContainerError {
			return ev, false
		}
		ev.Type = EventTaskState
		ev.Payload = &EventPayload{State: now.State, Goal: now.Goal, ContainerID: now.ContainerID, Error: now.ContainerError}
		if beforeOK {
			ev.Payload.PreviousState = before.State
		}
	case KeyGroup:
		ev.Group = c.Name
		switch {
		case c.Delete:
			ev.Type = EventGroupRemoved
		case created:
			ev.Type = EventGroupCreated
		default:
			return ev, false
		}
	case KeyGroupStatus:
		ev.Group = c.Name
		if c.Delete {
			return ev, false // the group's removal has its own event
		}
		var now, before GroupStatus
		if json.Unmarshal(c.Value, &now) != nil {
			ev.Type = EventGroupStatus
			return ev, true
		}
		p := groupPayload(now)
		if !created && json.Unmarshal(c.Prev, &before) == nil && p == groupPayload(before) {
			return ev, false // membership or bookkeeping only
		}
		ev.Type, ev.Payload = EventGroupStatus, &p
	case KeyMaster:
		ev.Master = c.Name
		switch {
		case c.Delete:
			ev.Type = EventMasterDown
		case created:
			ev.Type = EventMasterUp
		default:
			return ev, false
		}
	default:
		return ev, false
	}
	return ev, true
}

// groupPayload is what GROUP_STATUS shows of a group's state: a new event is due when it
// changes (a step done, the state moved, an error).
func groupPayload(s GroupStatus) EventPayload {
	p := EventPayload{GroupState: s.State, Error: s.Error}
	if s.Rollout != nil {
		p.RolloutJobID, p.TaskIndex, p.Tasks = s.Rollout.JobID, s.Rollout.TaskIndex, len(s.Rollout.Tasks)
	}
	return p
}

// ClusterEventsOf turns one revision-ordered batch of changes into events, numbering the
// events of each revision from 0 (continuing from next, the index the first event of
// changes' first revision gets when that revision began in an earlier batch).
func ClusterEventsOf(changes []KeyChange, lastRev int64, next int, nowMs int64) (evs []ClusterEvent, rev int64, nextIndex int) {
	rev, nextIndex = lastRev, next
	for _, c := range changes {
		ev, ok := ClusterEventOf(c)
		if !ok {
			continue
		}
		if ev.Revision != rev {
			rev, nextIndex = ev.Revision, 0
		}
		ev.Index, ev.Time = nextIndex, nowMs
		nextIndex++
		evs = append(evs, ev)
	}
	return slices.Clip(evs), rev, nextIndex
}
