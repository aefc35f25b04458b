package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

func TestPlanDiscovery(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	const id = model.JobID("foo:1:0123456789012345678901234567890123456789")
	job := &model.Job{ID: id, Image: "img", Ports: map[string]model.PortMapping{"http": {InternalPort: 80}},
		Registration: map[string]model.ServicePorts{"web/tcp": {Ports: map[string]model.ServicePortParameters{"http": {}}}}}
	plain := &model.Job{ID: id, Image: "img"}
	want := func(j *model.Job, g model.Goal) map[model.JobID]desiredTask {
		return map[model.JobID]desiredTask{id: {Job: j, Goal: g, SpecHash: "h1"}}
	}
	ctr := func(cid, hash string, running bool) Container {
		c := Container{ID: cid, Running: running, Created: now.Add(-time.Hour), Labels: map[string]string{LabelJobID: string(id), LabelSpecHash: hash}}
		if !running {
			c.FinishedAt = now.Add(-time.Minute)
		}
		return c
	}
	st := func(s model.State, cid string) map[model.JobID]model.TaskStatus {
		return map[model.JobID]model.TaskStatus{id: {State: s, ContainerID: cid, Goal: model.GoalStart}}
	}
	pub := map[model.JobID]string{id: "c1"}

	for _, tc := range []struct {
		name      string
		desired   map[model.JobID]desiredTask
		ctrs      []Container
		reported  map[model.JobID]model.TaskStatus
		checking  map[string]bool
		published map[model.JobID]string
		off       bool
		want      []string // "kind container reason drain"
	}{
		{name: "RUNNING after its health check: published", desired: want(job, model.GoalStart),
			ctrs: []Container{ctr("c1", "h1", true)}, reported: st(model.StateRunning, "c1"),
			want: []string{"publish c1 healthy -"}},
		{name: "published already: nothing", desired: want(job, model.GoalStart), published: pub,
			ctrs: []Container{ctr("c1", "h1", true)}, reported: st(model.StateRunning, "c1")},
		{name: "adopted without a health check: reported RUNNING, then published", desired: want(job, model.GoalStart),
			ctrs: []Container{ctr("c1", "h1", true)},
			want: []string{"report c1 adopt -", "publish c1 healthy -"}},
		{name: "health check running: not published", desired: want(job, model.GoalStart), checking: map[string]bool{"c1": true},
			ctrs: []Container{ctr("c1", "h1", true)}, reported: st(model.StateHealthchecking, "c1")},
		{name: "no domain: nothing published", desired: want(job, model.GoalStart), off: true,
			ctrs: []Container{ctr("c1", "h1", true)}, reported: st(model.StateRunning, "c1")},
		{name: "job without registration: nothing published", desired: want(plain, model.GoalStart),
			ctrs: []Container{ctr("c1", "h1", true)}, reported: st(model.StateRunning, "c1")},
		{name: "goal STOP: withdrawn and drained before the stop", desired: want(job, model.GoalStop), published: pub,
			ctrs: []Container{ctr("c1", "h1", true)}, reported: st(model.StateRunning, "c1"),
			want: []string{"withdraw c1 stopping drain", "stop c1 goal-stop -"}},
		{name: "undeployed: withdrawn and drained before the removal", published: pub,
			ctrs: []Container{ctr("c1", "h1", true)}, reported: st(model.StateRunning, "c1"),
			want: []string{"withdraw c1 stopping drain", "remove c1 no-deployment -"}},
		{name: "spec changed: withdrawn and drained before the replacement", desired: want(job, model.GoalStart), published: pub,
			ctrs: []Container{ctr("c1", "old", true)}, reported: st(model.StateRunning, "c1"),
			want: []string{"withdraw c1 stopping drain", "start c1 spec-changed -"}},
		{name: "exited: withdrawn at once, before EXITED", desired: want(job, model.GoalStart), published: pub,
			ctrs: []Container{ctr("c1", "h1", false)}, reported: st(model.StateRunning, "c1"),
			want: []string{"withdraw c1 not-running -", "report c1 exited -", "start c1 restart-exited -"}},
		{name: "job unreadable: left alone, published or not", desired: map[model.JobID]desiredTask{id: {Goal: model.GoalStart}}, published: pub,
			ctrs: []Container{ctr("c1", "h1", true)}, reported: st(model.StateRunning, "c1")},
		{name: "container gone, nothing else known: withdrawn", published: pub,
			want: []string{"withdraw c1 not-running -"}},
		{name: "a newer container RUNNING: published in place of the old", desired: want(job, model.GoalStart), published: pub,
			ctrs: []Container{ctr("c2", "h1", true)}, reported: st(model.StateRunning, "c2"),
			want: []string{"publish c2 healthy -"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := plan(planInput{Desired: tc.desired, Containers: tc.ctrs, Reported: tc.reported, Now: now, RestartDelay: time.Second,
				Checking: tc.checking, Discovery: !tc.off, Published: tc.published})
			var gs []string
			for _, a := range got {
				if reasonKinds[a.Reason] != a.Kind {
					t.Errorf("action %v: reason %q is not one of the %s reasons", a, a.Reason, a.Kind)
				}
				drain := "-"
				if a.Drain {
					drain = "drain"
				}
				gs = append(gs, strings.Join([]string{string(a.Kind), a.ContainerID, string(a.Reason), drain}, " "))
			}
			if strings.Join(gs, "|") != strings.Join(tc.want, "|") {
				t.Errorf("plan:\n got %q\nwant %q", gs, tc.want)
			}
		})
	}
}
