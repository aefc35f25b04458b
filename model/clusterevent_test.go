package model

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestClusterEventOf(t *testing.T) {
	dep := func(g Goal) []byte { b, _ := json.Marshal(Deployment{JobID: "a:1:x", Goal: g}); return b }
	task := func(s State, g Goal) []byte { b, _ := json.Marshal(TaskStatus{State: s, Goal: g}); return b }
	group := func(st GroupState, idx int, hosts ...string) []byte {
		b, _ := json.Marshal(GroupStatus{State: st, Hosts: hosts, Rollout: &Rollout{JobID: "a:2:y", TaskIndex: idx, Tasks: make([]RolloutTask, 4)}})
		return b
	}
	job, _ := json.Marshal(Job{ID: "a:1:x", Image: "busybox:1", Token: "s3cret-token"})
	tests := []struct {
		name    string
		c       KeyChange
		want    ClusterEventType // "" = no event
		payload EventPayload
	}{
		{"job created", KeyChange{Kind: KeyJob, Job: "a:1:x", Value: job}, EventJobCreated, EventPayload{Image: "busybox:1"}},
		{"job rewritten", KeyChange{Kind: KeyJob, Value: job, Prev: job}, "", EventPayload{}},
		{"job removed", KeyChange{Kind: KeyJob, Delete: true, Prev: job}, EventJobRemoved, EventPayload{}},
		{"job undecodable", KeyChange{Kind: KeyJob, Value: []byte("{")}, EventJobCreated, EventPayload{}},
		{"deployed", KeyChange{Kind: KeyDeployment, Value: dep(GoalStart)}, EventDeployed, EventPayload{Goal: GoalStart}},
		{"goal changed", KeyChange{Kind: KeyDeployment, Value: dep(GoalStop), Prev: dep(GoalStart)}, EventGoalChanged, EventPayload{Goal: GoalStop, PreviousGoal: GoalStart}},
		{"same goal rewritten", KeyChange{Kind: KeyDeployment, Value: dep(GoalStart), Prev: dep(GoalStart)}, "", EventPayload{}},
		{"undeployed", KeyChange{Kind: KeyDeployment, Delete: true, Prev: dep(GoalStart)}, EventUndeployed, EventPayload{}},
		{"host registered", KeyChange{Kind: KeyHostID, Value: []byte("id1")}, EventHostRegistered, EventPayload{}},
		{"host re-registered with a new id", KeyChange{Kind: KeyHostID, Value: []byte("id2"), Prev: []byte("id1")}, EventHostRegistered, EventPayload{}},
		{"host id rewritten", KeyChange{Kind: KeyHostID, Value: []byte("id1"), Prev: []byte("id1")}, "", EventPayload{}},
		{"host deregistered", KeyChange{Kind: KeyHostID, Delete: true}, EventHostDeregistered, EventPayload{}},
		{"host up", KeyChange{Kind: KeyHostUp, Value: []byte{}}, EventHostUp, EventPayload{}},
		{"host up rewritten", KeyChange{Kind: KeyHostUp, Value: []byte{}, Prev: []byte{}}, "", EventPayload{}},
		{"host down", KeyChange{Kind: KeyHostUp, Delete: true, Prev: []byte{}}, EventHostDown, EventPayload{}},
		{"restore suspected", KeyChange{Kind: KeyRestoreSuspected, Value: []byte("{}")}, EventHostRestoreSuspected, EventPayload{}},
		{"restore report updated", KeyChange{Kind: KeyRestoreSuspected, Value: []byte("{}"), Prev: []byte("{}")}, "", EventPayload{}},
		{"restore report cleared", KeyChange{Kind: KeyRestoreSuspected, Delete: true, Prev: []byte("{}")}, EventHostRestoreCleared, EventPayload{}},
		{"first task status", KeyChange{Kind: KeyTaskStatus, Value: task(StateCreating, GoalStart)}, EventTaskState, EventPayload{State: StateCreating, Goal: GoalStart}},
		{"task state moved", KeyChange{Kind: KeyTaskStatus, Value: task(StateRunning, GoalStart), Prev: task(StateCreating, GoalStart)}, EventTaskState, EventPayload{State: StateRunning, Goal: GoalStart, PreviousState: StateCreating}},
		{"task status refreshed", KeyChange{Kind: KeyTaskStatus, Value: task(StateRunning, GoalStart), Prev: task(StateRunning, GoalStart)}, "", EventPayload{}},
		{"task status removed", KeyChange{Kind: KeyTaskStatus, Delete: true}, "", EventPayload{}},
		{"group created", KeyChange{Kind: KeyGroup, Name: "g", Value: []byte("{}")}, EventGroupCreated, EventPayload{}},
		{"group removed", KeyChange{Kind: KeyGroup, Name: "g", Delete: true}, EventGroupRemoved, EventPayload{}},
		{"rollout step", KeyChange{Kind: KeyGroupStatus, Name: "g", Value: group(GroupRollingOut, 2), Prev: group(GroupRollingOut, 1)}, EventGroupStatus,
			EventPayload{GroupState: GroupRollingOut, RolloutJobID: "a:2:y", TaskIndex: 2, Tasks: 4}},
		{"membership only", KeyChange{Kind: KeyGroupStatus, Name: "g", Value: group(GroupRollingOut, 1, "h1"), Prev: group(GroupRollingOut, 1)}, "", EventPayload{}},
		{"group status removed", KeyChange{Kind: KeyGroupStatus, Name: "g", Delete: true}, "", EventPayload{}},
		{"master up", KeyChange{Kind: KeyMaster, Name: "m1", Value: []byte("{}")}, EventMasterUp, EventPayload{}},
		{"master down", KeyChange{Kind: KeyMaster, Name: "m1", Delete: true}, EventMasterDown, EventPayload{}},
		{"unknown kind", KeyChange{Kind: "history", Value: []byte("{}")}, "", EventPayload{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Revision = 42
			ev, ok := ClusterEventOf(tt.c)
			if tt.want == "" {
				if ok {
					t.Fatalf("got %+v, want no event", ev)
				}
				return
			}
			if !ok || ev.Type != tt.want || ev.Revision != 42 {
				t.Fatalf("got %+v (ok %v), want %s at revision 42", ev, ok, tt.want)
			}
			var got EventPayload
			if ev.Payload != nil {
				got = *ev.Payload
			}
			if got != tt.payload {
				t.Fatalf("payload %+v, want %+v", got, tt.payload)
			}
			if b, _ := json.Marshal(ev); strings.Contains(string(b), "s3cret") {
				t.Fatalf("the event shows the job token: %s", b)
			}
		})
	}
}

func TestClusterEventsOfNumbersEachRevision(t *testing.T) {
	up := func(host string, rev int64) KeyChange { return KeyChange{Kind: KeyHostUp, Host: host, Revision: rev} }
	skip := KeyChange{Kind: KeyHostUp, Revision: 11, Prev: []byte{}} // no event
	evs, rev, next := ClusterEventsOf([]KeyChange{up("a", 10), up("b", 10), skip, up("c", 11)}, 9, 0, 5)
	var got []string
	for _, e := range evs {
		got = append(got, e.Host+":"+string(rune('0'+e.Revision-10))+"."+string(rune('0'+e.Index)))
		if e.Time != 5 {
			t.Fatalf("time %d, want 5", e.Time)
		}
	}
	if strings.Join(got, " ") != "a:0.0 b:0.1 c:1.0" || rev != 11 || next != 1 {
		t.Fatalf("got %v, rev %d, next %d", got, rev, next)
	}
	// A batch continuing revision 11 goes on counting from 1.
	evs, _, _ = ClusterEventsOf([]KeyChange{up("d", 11)}, rev, next, 5)
	if len(evs) != 1 || evs[0].Index != 1 {
		t.Fatalf("continued revision: %+v, want index 1", evs)
	}
	if !evs[0].After(11, 0) || evs[0].After(11, 1) || !evs[0].After(10, 7) {
		t.Fatal("After orders by revision, then index")
	}
}

// FuzzClusterEventOf: whatever etcd holds, an event never panics, keeps its revision and
// names, and encodes.
func FuzzClusterEventOf(f *testing.F) {
	f.Add("task-status", false, []byte(`{"state":"RUNNING"}`), []byte(`{"state":"CREATING"}`))
	f.Add("group-status", false, []byte(`{"state":"ROLLING_OUT","rollout":{"tasks":[{}]}}`), []byte(nil))
	f.Add("deployment", true, []byte(nil), []byte(`{"goal":"START"}`))
	f.Fuzz(func(t *testing.T, kind string, del bool, value, prev []byte) {
		c := KeyChange{Kind: KeyKind(kind), Delete: del, Host: "h", Job: "j:1:x", Value: value, Prev: prev, Revision: 7}
		ev, ok := ClusterEventOf(c)
		if !ok {
			return
		}
		if ev.Revision != 7 || ev.Type == "" || ev.Host != "h" {
			t.Fatalf("event %+v lost its revision, type or names", ev)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatal(err)
		}
	})
}
