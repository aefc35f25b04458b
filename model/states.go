package model

// State is where a task is in its life on a host, as the agent reports it.
type State string

// Task states, the original's words.
const (
	StatePullingImage   State = "PULLING_IMAGE"
	StateCreating       State = "CREATING"
	StateStarting       State = "STARTING"
	StateHealthchecking State = "HEALTHCHECKING"
	StateRunning        State = "RUNNING"
	StateExited         State = "EXITED"
	StateStopping       State = "STOPPING"
	StateStopped        State = "STOPPED"
	StateFailed         State = "FAILED"
	StateUnknown        State = "UNKNOWN"
)

// Goal is what the deployment wants of its task.
type Goal string

// Goals.
const (
	GoalStart    Goal = "START"
	GoalStop     Goal = "STOP"
	GoalUndeploy Goal = "UNDEPLOY"
)

// ParseGoal accepts a goal word in any case.
func ParseGoal(s string) (Goal, bool) {
	switch Goal(upper(s)) {
	case GoalStart:
		return GoalStart, true
	case GoalStop:
		return GoalStop, true
	case GoalUndeploy:
		return GoalUndeploy, true
	}
	return "", false
}

// ThrottleState says why the agent is holding a task back.
type ThrottleState string

// Throttle states.
const (
	ThrottleNo              ThrottleState = "NO"
	ThrottleFlapping        ThrottleState = "FLAPPING"
	ThrottleImageMissing    ThrottleState = "IMAGE_MISSING"
	ThrottleImagePullFailed ThrottleState = "IMAGE_PULL_FAILED"
)

// HostStatusWord is UP while the host's agent holds its lease.
type HostStatusWord string

// Host statuses.
const (
	HostUp   HostStatusWord = "UP"
	HostDown HostStatusWord = "DOWN"
)

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
