package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

func TestPlan(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	const id = model.JobID("foo:1:0123456789012345678901234567890123456789")
	const other = model.JobID("bar:1:0123456789012345678901234567890123456789")
	job := &model.Job{ID: id, Image: "img"}
	start := map[model.JobID]desiredTask{id: {Job: job, Goal: model.GoalStart, SpecHash: "h1"}}
	stop := map[model.JobID]desiredTask{id: {Job: job, Goal: model.GoalStop, SpecHash: "h1"}}
	undeploy := map[model.JobID]desiredTask{id: {Job: job, Goal: model.GoalUndeploy, SpecHash: "h1"}}
	ctr := func(cid string, jid model.JobID, hash string, running bool, finished time.Time) Container {
		return Container{ID: cid, Running: running, FinishedAt: finished, Created: now.Add(-time.Hour),
			Labels: map[string]string{LabelHost: "h", LabelJobID: string(jid), LabelSpecHash: hash}}
	}
	st := func(s model.State, cid string, g model.Goal) map[model.JobID]model.TaskStatus {
		return map[model.JobID]model.TaskStatus{id: {State: s, ContainerID: cid, Goal: g}}
	}

	hcJob := &model.Job{ID: id, Image: "img", HealthCheck: &model.HealthCheck{Type: model.HealthCheckExec, Command: []string{"true"}}}
	hcStart := map[model.JobID]desiredTask{id: {Job: hcJob, Goal: model.GoalStart, SpecHash: "h1"}}
	flapping := map[model.JobID]bool{id: true}
	throttled := func(s model.State, cid string, th model.ThrottleState) map[model.JobID]model.TaskStatus {
		return map[model.JobID]model.TaskStatus{id: {State: s, ContainerID: cid, Goal: model.GoalStart, Throttled: th}}
	}

	tests := []struct {
		name     string
		desired  map[model.JobID]desiredTask
		ctrs     []Container
		reported map[model.JobID]model.TaskStatus
		checking map[string]bool
		flapping map[model.JobID]bool
		throttle map[model.JobID]model.ThrottleState
		busy     map[model.JobID]bool
		backoff  map[model.JobID]time.Time
		retry    map[model.JobID]time.Time
		want     []string // "kind job container state", container and state may be "-"
	}{
		{name: "health-checked job's running container gets a supervisor", desired: hcStart,
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateStarting, "c1", model.GoalStart),
			want: []string{"healthcheck foo c1 -"}},
		{name: "supervised container left to its supervisor", desired: hcStart, checking: map[string]bool{"c1": true},
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateHealthchecking, "c1", model.GoalStart)},
		{name: "supervised container that died left to its supervisor", desired: hcStart, checking: map[string]bool{"c1": true},
			ctrs: []Container{ctr("c1", id, "h1", false, now.Add(-2*time.Second))}, reported: st(model.StateHealthchecking, "c1", model.GoalStart)},
		{name: "health check passed: nothing to do", desired: hcStart,
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateRunning, "c1", model.GoalStart)},
		{name: "died while HEALTHCHECKING with no supervisor: FAILED, restart", desired: hcStart,
			ctrs: []Container{ctr("c1", id, "h1", false, now.Add(-2*time.Second))}, reported: st(model.StateHealthchecking, "c1", model.GoalStart),
			want: []string{"report foo c1 FAILED", "start foo c1 -"}},
		{name: "FAILED container restarted after the delay, no EXITED", desired: hcStart,
			ctrs: []Container{ctr("c1", id, "h1", false, now.Add(-2*time.Second))}, reported: st(model.StateFailed, "c1", model.GoalStart),
			want: []string{"start foo c1 -"}},
		{name: "goal STOP while health checking stops", desired: stop, checking: map[string]bool{"c1": true},
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateHealthchecking, "c1", model.GoalStart),
			want: []string{"stop foo c1 -"}},
		{name: "flapping: restart waits the flapping delay", desired: start, flapping: flapping,
			throttle: map[model.JobID]model.ThrottleState{id: model.ThrottleFlapping},
			ctrs:     []Container{ctr("c1", id, "h1", false, now.Add(-2*time.Second))}, reported: throttled(model.StateExited, "c1", model.ThrottleFlapping),
			want: []string{"wait foo c1 -"}},
		{name: "throttle cleared: RUNNING reported again", desired: start,
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: throttled(model.StateRunning, "c1", model.ThrottleFlapping),
			want: []string{"report foo c1 RUNNING"}},
		{name: "throttle set on a running task reported", desired: start, throttle: map[model.JobID]model.ThrottleState{id: model.ThrottleFlapping},
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: throttled(model.StateRunning, "c1", model.ThrottleNo),
			want: []string{"report foo c1 RUNNING"}},
		{name: "nothing deployed, nothing running", want: nil},
		{name: "running and reported: nothing to do", desired: start,
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateRunning, "c1", model.GoalStart)},
		{name: "start missing container", desired: start,
			want: []string{"start foo - -"}},
		{name: "adopt running container with matching spec hash", desired: start,
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})},
			want: []string{"report foo c1 RUNNING"}},
		{name: "exited container reported then restarted after the delay", desired: start,
			ctrs:     []Container{ctr("c1", id, "h1", false, now.Add(-2*time.Second))},
			reported: st(model.StateRunning, "c1", model.GoalStart),
			want:     []string{"report foo c1 EXITED", "start foo c1 -"}},
		{name: "exited container waits for the restart delay", desired: start,
			ctrs:     []Container{ctr("c1", id, "h1", false, now.Add(-300*time.Millisecond))},
			reported: st(model.StateExited, "c1", model.GoalStart),
			want:     []string{"wait foo c1 -"}},
		{name: "goal STOP stops and keeps the container", desired: stop,
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateRunning, "c1", model.GoalStart),
			want: []string{"stop foo c1 -"}},
		{name: "goal STOP on a stopped container reported once", desired: stop,
			ctrs: []Container{ctr("c1", id, "h1", false, now.Add(-time.Minute))}, reported: st(model.StateStopped, "c1", model.GoalStop)},
		{name: "goal STOP with no container reports STOPPED", desired: stop,
			want: []string{"report foo - STOPPED"}},
		{name: "absent deployment removes container and status", desired: nil,
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateRunning, "c1", model.GoalStart),
			want: []string{"remove foo c1 undeploy,stopping,stopped"}},
		{name: "goal UNDEPLOY removes", desired: undeploy,
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateRunning, "c1", model.GoalStart),
			want: []string{"remove foo c1 undeploy,stopping,stopped"}},
		{name: "undeploy of an exited container: STOPPED without STOPPING", desired: undeploy,
			ctrs: []Container{ctr("c1", id, "h1", false, now.Add(-time.Minute))}, reported: st(model.StateExited, "c1", model.GoalStart),
			want: []string{"remove foo c1 undeploy,stopped"}},
		{name: "undeploy of a container reported STOPPED: no report, removed", desired: undeploy,
			ctrs: []Container{ctr("c1", id, "h1", false, now.Add(-time.Minute))}, reported: st(model.StateStopped, "c1", model.GoalStop),
			want: []string{"remove foo c1 undeploy"}},
		{name: "busy job gets no action", desired: start, busy: map[model.JobID]bool{id: true},
			want: nil},
		{name: "busy job leaves other jobs alone", desired: start, busy: map[model.JobID]bool{other: true},
			ctrs: []Container{ctr("x9", other, "zz", true, time.Time{})},
			want: []string{"start foo - -"}},
		{name: "failed start backs off: wait instead of start", desired: start, backoff: map[model.JobID]time.Time{id: now.Add(3 * time.Second)},
			want: []string{"wait foo - -"}},
		{name: "back-off keeps the report before the start", desired: start, backoff: map[model.JobID]time.Time{id: now.Add(3 * time.Second)},
			ctrs:     []Container{ctr("c1", id, "h1", false, now.Add(-2*time.Second))},
			reported: st(model.StateRunning, "c1", model.GoalStart),
			want:     []string{"report foo c1 EXITED", "wait foo c1 -"}},
		{name: "failed action backs the job off: one wait, nothing else", desired: stop, retry: map[model.JobID]time.Time{id: now.Add(time.Second)},
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateRunning, "c1", model.GoalStart),
			want: []string{"wait foo - -"}},
		{name: "error back-off with nothing to do: no wait", desired: start, retry: map[model.JobID]time.Time{id: now.Add(time.Second)},
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateRunning, "c1", model.GoalStart)},
		{name: "error back-off over: stop", desired: stop, retry: map[model.JobID]time.Time{id: now},
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateRunning, "c1", model.GoalStart),
			want: []string{"stop foo c1 -"}},
		{name: "back-off over: start", desired: start, backoff: map[model.JobID]time.Time{id: now.Add(-time.Millisecond)},
			want: []string{"start foo - -"}},
		{name: "back-off does not hold a stop", desired: stop, backoff: map[model.JobID]time.Time{id: now.Add(3 * time.Second)},
			ctrs: []Container{ctr("c1", id, "h1", true, time.Time{})}, reported: st(model.StateRunning, "c1", model.GoalStart),
			want: []string{"stop foo c1 -"}},
		{name: "absent deployment, no container: status deleted", reported: st(model.StateStopped, "c1", model.GoalStart),
			want: []string{"delete-status foo - -"}},
		{name: "spec hash change recreates", desired: start,
			ctrs: []Container{ctr("c1", id, "old", true, time.Time{})}, reported: st(model.StateRunning, "c1", model.GoalStart),
			want: []string{"start foo c1 -"}},
		{name: "unknown helios container of this host reaped quietly", desired: start,
			ctrs:     []Container{ctr("c1", id, "h1", true, time.Time{}), ctr("x9", other, "zz", true, time.Time{})},
			reported: st(model.StateRunning, "c1", model.GoalStart),
			want:     []string{"remove bar x9 -"}},
		{name: "extra container of a wanted job reaped", desired: start,
			ctrs:     []Container{ctr("c1", id, "h1", true, time.Time{}), ctr("c0", id, "h1", false, now.Add(-time.Hour))},
			reported: st(model.StateRunning, "c1", model.GoalStart),
			want:     []string{"remove foo c0 -"}},
		{name: "deployment whose job is unreadable left alone", desired: map[model.JobID]desiredTask{id: {Goal: model.GoalStart}},
			ctrs: []Container{ctr("c1", id, "h1", false, now.Add(-time.Hour))}},
		{name: "goal back to START after STOP restarts at once", desired: start,
			ctrs: []Container{ctr("c1", id, "h1", false, now.Add(-time.Minute))}, reported: st(model.StateStopped, "c1", model.GoalStop),
			want: []string{"start foo c1 -"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := plan(planInput{Desired: tc.desired, Containers: tc.ctrs, Reported: tc.reported, Now: now, RestartDelay: time.Second,
				Checking: tc.checking, Flapping: tc.flapping, Throttle: tc.throttle, FlappingDelay: 30 * time.Second,
				Busy: tc.busy, StartBackoff: tc.backoff, ErrorBackoff: tc.retry})
			var gs []string
			for _, a := range got {
				if kind, ok := reasonKinds[a.Reason]; !ok || kind != a.Kind {
					t.Errorf("action %v: reason %q is not one of the %s reasons", a, a.Reason, a.Kind)
				}
				c, s := a.ContainerID, string(a.State)
				if c == "" {
					c = "-"
				}
				if a.Undeploy {
					s = "undeploy"
					if a.Stopping {
						s += ",stopping"
					}
					if a.Stopped {
						s += ",stopped"
					}
				}
				if s == "" {
					s = "-"
				}
				gs = append(gs, strings.Join([]string{string(a.Kind), a.JobID.Name(), c, s}, " "))
			}
			if strings.Join(gs, "|") != strings.Join(tc.want, "|") {
				t.Errorf("plan:\n got %q\nwant %q", gs, tc.want)
			}
		})
	}
}

func TestPlanWaitIsTheRemainingDelay(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	id := model.JobID("foo:1:0123456789012345678901234567890123456789")
	got := plan(planInput{
		Desired:      map[model.JobID]desiredTask{id: {Job: &model.Job{ID: id}, Goal: model.GoalStart, SpecHash: "h"}},
		Containers:   []Container{{ID: "c", FinishedAt: now.Add(-400 * time.Millisecond), Labels: map[string]string{LabelJobID: string(id), LabelSpecHash: "h"}}},
		Now:          now,
		RestartDelay: time.Second,
	})
	if len(got) != 1 || got[0].Kind != actWait || got[0].After != 600*time.Millisecond {
		t.Fatalf("want one wait of 600ms, got %v", got)
	}
}

func TestPlanWaitOfABackOffIsTheRemainingTime(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	id := model.JobID("foo:1:0123456789012345678901234567890123456789")
	got := plan(planInput{
		Desired:      map[model.JobID]desiredTask{id: {Job: &model.Job{ID: id}, Goal: model.GoalStart, SpecHash: "h"}},
		Now:          now,
		StartBackoff: map[model.JobID]time.Time{id: now.Add(1500 * time.Millisecond)},
	})
	if len(got) != 1 || got[0].Kind != actWait || got[0].After != 1500*time.Millisecond || got[0].Reason != reasonStartBackoff {
		t.Fatalf("want one start-backoff wait of 1.5s, got %v", got)
	}
}

func TestEveryReasonHasAKnownKind(t *testing.T) {
	kinds := map[actionKind]bool{actStart: true, actStop: true, actRemove: true, actReport: true, actDeleteStatus: true, actWait: true, actHealthcheck: true,
		actPublish: true, actWithdraw: true}
	for r, k := range reasonKinds {
		if r == "" || !kinds[k] {
			t.Errorf("reason %q -> kind %q", r, k)
		}
	}
}
