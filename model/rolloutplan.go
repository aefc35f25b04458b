package model

import (
	"sort"
)

// RolloutAction is what one step of a rolling update does on one host.
type RolloutAction string

// Rollout actions: the original's three, in its words.
const (
	// ActionUndeployOldJobs takes off the host every job the group deployed there before
	// (and, with migrate, a manual deployment of the job being rolled out is kept).
	ActionUndeployOldJobs RolloutAction = "UNDEPLOY_OLD_JOBS"
	// ActionDeployNewJob deploys the group's job on the host.
	ActionDeployNewJob RolloutAction = "DEPLOY_NEW_JOB"
	// ActionAwaitRunning waits until the host reports the job RUNNING (health check passed).
	ActionAwaitRunning RolloutAction = "AWAIT_RUNNING"
)

// RolloutTask is one step of a rollout: an action on one host.
type RolloutTask struct {
	Action RolloutAction `json:"action"`
	Target string        `json:"target"`
	// Job is the job an AWAIT_RUNNING of a rollback waits for; "" means the rollout's.
	Job JobID `json:"job,omitempty"`
}

// PlanRollout lays out a rolling update over hosts, the original's way: the hosts in
// natural order (web2 before web10), in batches of parallelism. A normal batch undeploys the
// old job and deploys the new one on each of its hosts, then awaits each of them RUNNING;
// an overlap batch deploys the new job on all of them, awaits them all, and only then
// undeploys the old jobs, so a host never runs nothing. parallelism below 1 counts as 1.
func PlanRollout(hosts []string, parallelism int, overlap bool) []RolloutTask {
	sorted := append([]string(nil), hosts...)
	SortNatural(sorted)
	parallelism = max(parallelism, 1)
	tasks := make([]RolloutTask, 0, 3*len(sorted))
	for start := 0; start < len(sorted); start += parallelism {
		batch := sorted[start:min(start+parallelism, len(sorted))]
		if overlap {
			tasks = appendTasks(tasks, ActionDeployNewJob, batch)
			tasks = appendTasks(tasks, ActionAwaitRunning, batch)
			tasks = appendTasks(tasks, ActionUndeployOldJobs, batch)
			continue
		}
		for _, h := range batch {
			tasks = append(tasks, RolloutTask{ActionUndeployOldJobs, h, ""}, RolloutTask{ActionDeployNewJob, h, ""})
		}
		tasks = appendTasks(tasks, ActionAwaitRunning, batch)
	}
	return tasks
}

func appendTasks(tasks []RolloutTask, a RolloutAction, hosts []string) []RolloutTask {
	for _, h := range hosts {
		tasks = append(tasks, RolloutTask{Action: a, Target: h})
	}
	return tasks
}

// SortNatural sorts names so that runs of digits compare as numbers: host2 < host10.
func SortNatural(names []string) {
	sort.SliceStable(names, func(i, j int) bool { return NaturalLess(names[i], names[j]) })
}

// NaturalLess compares a and b piece by piece, numbers by value (then by length, so "02"
// and "2" still have an order) and everything else byte by byte.
func NaturalLess(a, b string) bool {
	for a != "" && b != "" {
		ca, cb := a[0], b[0]
		if isDigit(ca) && isDigit(cb) {
			na, ra := digitRun(a)
			nb, rb := digitRun(b)
			if c := compareNumbers(na, nb); c != 0 {
				return c < 0
			}
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			a, b = ra, rb
			continue
		}
		if ca != cb {
			return ca < cb
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) (run, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// compareNumbers compares two digit strings by value, however long they are.
func compareNumbers(a, b string) int {
	a, b = trimZeros(a), trimZeros(b)
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
