package model

import (
	"reflect"
	"slices"
	"testing"
)

// hostSet answers "is h in the set" for the up and registered callbacks.
func hostSet(hosts ...string) func(string) bool {
	return func(h string) bool { return slices.Contains(hosts, h) }
}

func allHosts(string) bool { return true }

// tasks builds a plan from "ACTION:host" shorthands: U D A for the original's update
// actions, F W M for its undeploy actions, P for a canary pause, RU RR for a rollback.
func tasks(specs ...string) []RolloutTask {
	names := map[string]RolloutAction{
		"U": ActionUndeployOldJobs, "D": ActionDeployNewJob, "A": ActionAwaitRunning,
		"F": ActionForceUndeployJobs, "W": ActionAwaitUndeployed, "M": ActionMarkUndeployed,
		"P": ActionAwaitPromotion, "RU": ActionRollbackUndeploy, "RR": ActionRollbackRestore,
	}
	var out []RolloutTask
	for _, s := range specs {
		action, target, job := s, "", ""
		for i := range s {
			if s[i] == ':' {
				action, target = s[:i], s[i+1:]
				break
			}
		}
		// "A:h1=foo:1" awaits foo:1 (a rollback's await of the previous job).
		for i := range target {
			if target[i] == '=' {
				target, job = target[:i], target[i+1:]
				break
			}
		}
		a, ok := names[action]
		if !ok {
			panic("unknown action shorthand " + action)
		}
		out = append(out, RolloutTask{Action: a, Target: target, Job: JobID(job)})
	}
	return out
}

func options(mod func(*RolloutOptions)) RolloutOptions {
	o := ResolveRolloutOptions()
	if mod != nil {
		mod(&o)
	}
	return o
}

func TestStartRolloutPlansOnlyUpMembersInNaturalOrder(t *testing.T) {
	prev := GroupStatus{Hosts: []string{"web10", "web2", "web1", "web3"}}
	opts := options(nil)
	got := StartRollout(prev, "foo:2", ReasonManual, opts, hostSet("web1", "web2", "web10"), 5000)
	want := GroupStatus{
		State: GroupRollingOut,
		Hosts: []string{"web10", "web2", "web1", "web3"},
		Rollout: &Rollout{
			JobID: "foo:2", Reason: ReasonManual, Options: opts, StepStarted: 5000, Started: 5000,
			Tasks: tasks("U:web1", "D:web1", "A:web1", "U:web2", "D:web2", "A:web2", "U:web10", "D:web10", "A:web10"),
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("StartRollout:\n got %+v %+v\nwant %+v %+v", got, got.Rollout, want, want.Rollout)
	}
	if !got.Active() {
		t.Fatal("a started rollout is not active")
	}
}

func TestStartRolloutPlanShapes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hosts   []string
		removed []string
		up      func(string) bool
		mod     func(*RolloutOptions)
		want    []RolloutTask
	}{
		{
			name: "removed up hosts are undeployed first, in batches", hosts: []string{"h1"}, removed: []string{"gone2", "gone1"},
			up: allHosts, mod: func(o *RolloutOptions) { o.Parallelism = ptr(2) },
			want: tasks("F:gone1", "F:gone2", "W:gone1", "M:gone1", "W:gone2", "M:gone2", "U:h1", "D:h1", "A:h1"),
		},
		{
			name: "removed hosts one at a time", hosts: []string{"h1"}, removed: []string{"gone10", "gone9"}, up: allHosts,
			want: tasks("F:gone9", "W:gone9", "M:gone9", "F:gone10", "W:gone10", "M:gone10", "U:h1", "D:h1", "A:h1"),
		},
		{
			name: "a removed host that is down waits for a later rollout", hosts: []string{"h1"}, removed: []string{"gone1", "gone2"},
			up: hostSet("h1", "gone2"), want: tasks("F:gone2", "W:gone2", "M:gone2", "U:h1", "D:h1", "A:h1"),
		},
		{
			name: "a host both member and removed is only rolled to", hosts: []string{"h1"}, removed: []string{"h1"}, up: allHosts,
			want: tasks("U:h1", "D:h1", "A:h1"),
		},
		{
			name: "overlap", hosts: []string{"h2", "h1"}, up: allHosts, mod: func(o *RolloutOptions) { o.Overlap = ptr(true) },
			want: tasks("D:h1", "A:h1", "U:h1", "D:h2", "A:h2", "U:h2"),
		},
		{
			name: "canary pauses after the canary hosts", hosts: []string{"h3", "h1", "h2"}, up: allHosts,
			mod:  func(o *RolloutOptions) { o.Canary = ptr(1) },
			want: tasks("U:h1", "D:h1", "A:h1", "P", "U:h2", "D:h2", "A:h2", "U:h3", "D:h3", "A:h3"),
		},
		{
			name: "canary of two with parallelism two", hosts: []string{"h3", "h1", "h2"}, up: allHosts,
			mod:  func(o *RolloutOptions) { o.Canary, o.Parallelism = ptr(2), ptr(2) },
			want: tasks("U:h1", "D:h1", "U:h2", "D:h2", "A:h1", "A:h2", "P", "U:h3", "D:h3", "A:h3"),
		},
		{
			name: "canary counts up hosts only", hosts: []string{"h1", "h2", "h3"}, up: hostSet("h1", "h3"),
			mod:  func(o *RolloutOptions) { o.Canary = ptr(1) },
			want: tasks("U:h1", "D:h1", "A:h1", "P", "U:h3", "D:h3", "A:h3"),
		},
		{
			name: "canary as large as the group does not pause", hosts: []string{"h1", "h2"}, up: allHosts,
			mod:  func(o *RolloutOptions) { o.Canary = ptr(2) },
			want: tasks("U:h1", "D:h1", "A:h1", "U:h2", "D:h2", "A:h2"),
		},
		{
			name: "canary larger than the group does not pause", hosts: []string{"h1", "h2"}, up: allHosts,
			mod:  func(o *RolloutOptions) { o.Canary = ptr(7) },
			want: tasks("U:h1", "D:h1", "A:h1", "U:h2", "D:h2", "A:h2"),
		},
		{
			name: "canary pause comes after the removed hosts", hosts: []string{"h1", "h2"}, removed: []string{"old"}, up: allHosts,
			mod:  func(o *RolloutOptions) { o.Canary = ptr(1) },
			want: tasks("F:old", "W:old", "M:old", "U:h1", "D:h1", "A:h1", "P", "U:h2", "D:h2", "A:h2"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := GroupStatus{Hosts: slices.Clone(tc.hosts), Removed: slices.Clone(tc.removed)}
			got := StartRollout(prev, "foo:2", ReasonHostsChanged, options(tc.mod), tc.up, 1)
			if !reflect.DeepEqual(got.Rollout.Tasks, tc.want) {
				t.Fatalf("plan:\n got %v\nwant %v", got.Rollout.Tasks, tc.want)
			}
			if got.State != GroupRollingOut {
				t.Fatalf("state = %s, want ROLLING_OUT", got.State)
			}
			if !slices.Equal(got.Hosts, tc.hosts) || !slices.Equal(got.Removed, tc.removed) {
				t.Fatalf("members %v removed %v, want them kept as %v %v", got.Hosts, got.Removed, tc.hosts, tc.removed)
			}
		})
	}
}

func TestStartRolloutWithNothingToDoIsDoneAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		prev  GroupStatus
		up    func(string) bool
		canry int
	}{
		{"no members", GroupStatus{}, allHosts, 0},
		{"every member down", GroupStatus{Hosts: []string{"h1", "h2"}, Removed: []string{"h3"}}, hostSet(), 0},
		{"canary but no members", GroupStatus{}, allHosts, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := StartRollout(tc.prev, "foo:2", ReasonManual, options(func(o *RolloutOptions) { o.Canary = ptr(tc.canry) }), tc.up, 42)
			if got.State != GroupDone || got.Rollout == nil || len(got.Rollout.Tasks) != 0 || got.Rollout.Finished != 42 {
				t.Fatalf("got %+v %+v, want DONE with no tasks, finished at 42", got, got.Rollout)
			}
			if got.Active() || got.Busy() {
				t.Fatal("a finished rollout is active or busy")
			}
		})
	}
}

func TestStartRolloutForgetsTheLastRolloutsOutcome(t *testing.T) {
	prev := GroupStatus{
		State: GroupFailed, Error: "h1: PORT_CONFLICT: x", Hosts: []string{"h1"}, RolledBack: true,
		RollbackErrors: []string{"h1: job foo:0 no longer exists; host left as it is"},
		Rollout:        &Rollout{JobID: "foo:1", Tasks: tasks("U:h1"), Fresh: map[string]bool{"h1": true}},
	}
	got := StartRollout(prev, "foo:2", ReasonManual, options(nil), allHosts, 7)
	if got.Error != "" || got.RolledBack || got.RollbackErrors != nil || got.Rollout.Fresh != nil || got.Rollout.Previous != nil {
		t.Fatalf("new rollout keeps the old one's outcome: %+v %+v", got, got.Rollout)
	}
	if prev.Rollout.JobID != "foo:1" || prev.State != GroupFailed {
		t.Fatalf("StartRollout changed its input: %+v", prev)
	}
}

func TestUpdateMembers(t *testing.T) {
	for _, tc := range []struct {
		name                string
		hosts, removed      []string
		matching            []string
		registered, up      func(string) bool
		wantHosts, wantRemd []string
		wantChanged         bool
	}{
		{
			name: "a matching host that is up joins, in natural order", hosts: []string{"web2"}, matching: []string{"web10", "web2", "web1"},
			registered: allHosts, up: allHosts, wantHosts: []string{"web1", "web2", "web10"}, wantChanged: true,
		},
		{
			name: "a matching host that is down does not join yet", hosts: []string{"h1"}, matching: []string{"h1", "h2"},
			registered: allHosts, up: hostSet("h1"), wantHosts: []string{"h1"},
		},
		{
			name: "a member that goes down stays", hosts: []string{"h1", "h2"}, matching: []string{"h1", "h2"},
			registered: allHosts, up: hostSet("h1"), wantHosts: []string{"h1", "h2"},
		},
		{
			name: "a host whose labels stop matching is removed", hosts: []string{"h1", "h2"}, matching: []string{"h1"},
			registered: allHosts, up: allHosts, wantHosts: []string{"h1"}, wantRemd: []string{"h2"}, wantChanged: true,
		},
		{
			name: "a host that left while down is removed too", hosts: []string{"h1", "h2"}, matching: []string{"h1"},
			registered: allHosts, up: hostSet("h1"), wantHosts: []string{"h1"}, wantRemd: []string{"h2"}, wantChanged: true,
		},
		{
			name: "a deregistered member is forgotten", hosts: []string{"h1", "h2"}, matching: []string{"h1"},
			registered: hostSet("h1"), up: hostSet("h1"), wantHosts: []string{"h1"}, wantChanged: true,
		},
		{
			name: "a removed host deregistered since is forgotten", hosts: []string{"h1"}, removed: []string{"h2", "h3"}, matching: []string{"h1"},
			registered: hostSet("h1", "h3"), up: allHosts, wantHosts: []string{"h1"}, wantRemd: []string{"h3"}, wantChanged: true,
		},
		{
			name: "a removed host stays removed until undeployed", hosts: []string{"h1"}, removed: []string{"h2"}, matching: []string{"h1"},
			registered: allHosts, up: allHosts, wantHosts: []string{"h1"}, wantRemd: []string{"h2"},
		},
		{
			name: "a removed host matching again rejoins", hosts: []string{"h1"}, removed: []string{"h2"}, matching: []string{"h1", "h2"},
			registered: allHosts, up: allHosts, wantHosts: []string{"h1", "h2"}, wantChanged: true,
		},
		{
			name: "removed hosts in natural order", hosts: []string{"h10", "h9", "h1"}, matching: []string{"h1"},
			registered: allHosts, up: allHosts, wantHosts: []string{"h1"}, wantRemd: []string{"h9", "h10"}, wantChanged: true,
		},
		{
			name: "no member left", hosts: []string{"h1"}, matching: nil,
			registered: allHosts, up: allHosts, wantHosts: nil, wantRemd: []string{"h1"}, wantChanged: true,
		},
		{
			name: "unchanged", hosts: []string{"h1", "h2"}, removed: []string{"h3"}, matching: []string{"h2", "h1"},
			registered: allHosts, up: allHosts, wantHosts: []string{"h1", "h2"}, wantRemd: []string{"h3"},
		},
		{
			name: "nothing at all", registered: allHosts, up: allHosts,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := GroupStatus{State: GroupDone, Hosts: slices.Clone(tc.hosts), Removed: slices.Clone(tc.removed), Rollout: &Rollout{JobID: "foo:1"}}
			got, changed := UpdateMembers(prev, slices.Clone(tc.matching), tc.registered, tc.up)
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			if !slices.Equal(got.Hosts, tc.wantHosts) || !slices.Equal(got.Removed, tc.wantRemd) {
				t.Errorf("members %v removed %v, want %v %v", got.Hosts, got.Removed, tc.wantHosts, tc.wantRemd)
			}
			if got.State != GroupDone || got.Rollout != prev.Rollout {
				t.Errorf("UpdateMembers touched the rollout: %+v", got)
			}
			if !slices.Equal(prev.Hosts, tc.hosts) || !slices.Equal(prev.Removed, tc.removed) {
				t.Errorf("UpdateMembers changed its input to %v %v", prev.Hosts, prev.Removed)
			}
		})
	}
}

func TestRollOnHostChange(t *testing.T) {
	withJob := DeploymentGroup{Name: "g", JobID: "foo:1"}
	for _, tc := range []struct {
		name string
		g    DeploymentGroup
		s    GroupStatus
		want bool
	}{
		{"no job yet", DeploymentGroup{Name: "g"}, GroupStatus{}, false},
		{"no job, even after a rollout", DeploymentGroup{Name: "g"}, GroupStatus{State: GroupDone}, false},
		{"never rolled out", withJob, GroupStatus{}, true},
		{"done", withJob, GroupStatus{State: GroupDone, Rollout: &Rollout{Reason: ReasonManual}}, true},
		{"manual rollout failed", withJob, GroupStatus{State: GroupFailed, Rollout: &Rollout{Reason: ReasonManual}}, false},
		{"manual rollout stopped", withJob, GroupStatus{State: GroupFailed, Error: StoppedByUser, Rollout: &Rollout{Reason: ReasonManual}}, false},
		{"failed after hosts changed", withJob, GroupStatus{State: GroupFailed, Rollout: &Rollout{Reason: ReasonHostsChanged}}, true},
		{"failed with no rollout recorded", withJob, GroupStatus{State: GroupFailed}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RollOnHostChange(tc.g, tc.s); got != tc.want {
				t.Fatalf("RollOnHostChange = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestActiveAndBusy(t *testing.T) {
	two := tasks("U:h1", "D:h1")
	for _, tc := range []struct {
		name         string
		s            GroupStatus
		active, busy bool
	}{
		{"idle", GroupStatus{}, false, false},
		{"rolling out", GroupStatus{State: GroupRollingOut, Rollout: &Rollout{Tasks: two}}, true, true},
		{"rolling out past the last task", GroupStatus{State: GroupRollingOut, Rollout: &Rollout{Tasks: two, TaskIndex: 2}}, false, false},
		{"paused", GroupStatus{State: GroupPaused, Rollout: &Rollout{Tasks: tasks("P", "U:h1"), TaskIndex: 0}}, false, true},
		{"failed", GroupStatus{State: GroupFailed, Rollout: &Rollout{Tasks: two}}, false, false},
		{"failed, rolling back", GroupStatus{State: GroupFailed, Rollout: &Rollout{Tasks: two, RollingBack: true}}, true, true},
		{"done", GroupStatus{State: GroupDone, Rollout: &Rollout{Tasks: two, TaskIndex: 2}}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Active(); got != tc.active {
				t.Errorf("Active = %v, want %v", got, tc.active)
			}
			if got := tc.s.Busy(); got != tc.busy {
				t.Errorf("Busy = %v, want %v", got, tc.busy)
			}
		})
	}
}
