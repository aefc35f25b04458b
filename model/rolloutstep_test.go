package model

import (
	"encoding/json"
	"maps"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const (
	grp              = "dg"
	master           = "master-1"
	newJob     JobID = "foo:2" // the job being rolled out
	oldJob     JobID = "foo:1" // what the group ran before
	handJob    JobID = "bar:1" // deployed by hand
	t0         int64 = 1_000_000
	testTimout int64 = 10 // seconds: rolloutOptions.timeout of the tests that wait
)

// sim is a world the rollout engine runs against, and a controller that commits each
// round's result the way the real one does: the writes and the status together.
type sim struct {
	t *testing.T
	w RolloutWorld
	// keepStatuses leaves an undeployed job's task status in place (an agent that has
	// not yet removed the container); by default the status goes with the deployment.
	keepStatuses bool
}

func newSim(t *testing.T, hosts []string, mod func(*RolloutOptions)) *sim {
	t.Helper()
	opts := options(func(o *RolloutOptions) {
		o.Timeout = ptr(testTimout)
		if mod != nil {
			mod(o)
		}
	})
	s := &sim{t: t, w: RolloutWorld{
		Group:  DeploymentGroup{Name: grp, JobID: newJob, RolloutOptions: &opts},
		Jobs:   map[JobID]*Job{newJob: {ID: newJob}, oldJob: {ID: oldJob}, handJob: {ID: handJob}},
		Hosts:  map[string]*HostView{},
		NowMs:  t0,
		Master: master,
	}}
	for _, h := range hosts {
		s.w.Hosts[h] = &HostView{Registered: true, Up: true, Deployments: map[JobID]Deployment{}, Statuses: map[JobID]TaskStatus{}, Ports: map[string]JobID{}}
	}
	s.w.Status = StartRollout(GroupStatus{Hosts: slices.Clone(hosts)}, newJob, ReasonManual, opts, allHosts, t0)
	return s
}

// deploy puts a deployment on a host as it was before the rollout: by the group (a
// master) when group is set, else by hand (a user).
func (s *sim) deploy(host string, job JobID, group string, goal Goal) Deployment {
	d := Deployment{JobID: job, Goal: goal, DeploymentGroupName: group, DeployerUser: "alice"}
	if group != "" {
		d.DeployerUser, d.DeployerMaster = "", "master-0"
	}
	s.w.Hosts[host].Deployments[job] = d
	s.indexPorts(host)
	return d
}

func (s *sim) report(host string, job JobID, ts TaskStatus) { s.w.Hosts[host].Statuses[job] = ts }

func (s *sim) running(host string, jobs ...JobID) {
	for _, j := range jobs {
		s.report(host, j, TaskStatus{Goal: GoalStart, State: StateRunning})
	}
}

// staticPort gives a job a fixed tcp host port.
func (s *sim) staticPort(job JobID, port int) {
	j := *s.w.Jobs[job]
	j.Ports = map[string]PortMapping{"http": {InternalPort: 80, ExternalPort: ptr(port)}}
	s.w.Jobs[job] = &j
	for h := range s.w.Hosts {
		s.indexPorts(h)
	}
}

// indexPorts recomputes which job holds which static port of a host, as the store does.
func (s *sim) indexPorts(host string) {
	h := s.w.Hosts[host]
	h.Ports = map[string]JobID{}
	for id := range h.Deployments {
		if j := s.w.Jobs[id]; j != nil {
			for _, pm := range j.Ports {
				if pm.IsStatic() {
					h.Ports[PortKey(pm.Proto(), *pm.ExternalPort)] = id
				}
			}
		}
	}
}

// copyWorld is what the controller reads for a round: its own copy, so that the engine's
// result alone changes the sim.
func (s *sim) copyWorld() RolloutWorld {
	w := s.w
	w.Jobs = maps.Clone(s.w.Jobs)
	w.Hosts = map[string]*HostView{}
	for name, h := range s.w.Hosts {
		c := *h
		c.Deployments, c.Statuses, c.Ports = maps.Clone(h.Deployments), maps.Clone(h.Statuses), maps.Clone(h.Ports)
		w.Hosts[name] = &c
	}
	if err := json.Unmarshal(mustJSON(s.t, s.w.Status), &w.Status); err != nil {
		s.t.Fatal(err)
	}
	return w
}

// step runs one round and commits it.
func (s *sim) step(maxWrites int) StepResult {
	s.t.Helper()
	before := string(mustJSON(s.t, s.w.Status))
	res := StepRollout(s.copyWorld(), maxWrites)
	if !res.Changed && (len(res.Writes) > 0 || string(mustJSON(s.t, res.Status)) != before) {
		s.t.Fatalf("round says nothing changed but has writes %v or a new status %+v", res.Writes, res.Status)
	}
	for _, wr := range res.Writes {
		h := s.w.Hosts[wr.Host]
		if h == nil {
			s.t.Fatalf("write to host %q outside the world", wr.Host)
		}
		if wr.Deployment == nil {
			delete(h.Deployments, wr.Job)
			if !s.keepStatuses {
				delete(h.Statuses, wr.Job)
			}
		} else {
			h.Deployments[wr.Job] = *wr.Deployment
		}
		s.indexPorts(wr.Host)
	}
	s.w.Status = res.Status
	return res
}

func (s *sim) rollout() *Rollout { return s.w.Status.Rollout }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// put is the write deploying job on host for the group.
func put(host string, job JobID) HostWrite {
	return HostWrite{Host: host, Job: job, Deployment: &Deployment{JobID: job, Goal: GoalStart, DeployerMaster: master, DeploymentGroupName: grp}}
}

func del(host string, job JobID) HostWrite { return HostWrite{Host: host, Job: job} }

func wantWrites(t *testing.T, got []HostWrite, want ...HostWrite) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("writes:\n got %s\nwant %s", showWrites(got), showWrites(want))
	}
}

func showWrites(ws []HostWrite) string {
	var parts []string
	for _, w := range ws {
		if w.Deployment == nil {
			parts = append(parts, "del "+w.Host+"/"+string(w.Job))
		} else {
			parts = append(parts, "put "+w.Host+"/"+string(w.Job)+" "+string(mustJSONQuiet(*w.Deployment)))
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func mustJSONQuiet(v any) []byte { b, _ := json.Marshal(v); return b }

func wantSteps(t *testing.T, res StepResult, want ...string) {
	t.Helper()
	if w := tasks(want...); !reflect.DeepEqual(res.Steps, w) && (len(res.Steps) > 0 || len(w) > 0) {
		t.Fatalf("steps:\n got %v\nwant %v", res.Steps, w)
	}
}

func TestStepRolloutDeploysThenAwaits(t *testing.T) {
	s := newSim(t, []string{"h1"}, nil)
	s.deploy("h1", oldJob, grp, GoalStart)
	s.running("h1", oldJob)

	res := s.step(100)
	wantSteps(t, res, "U:h1", "D:h1")
	wantWrites(t, res.Writes, del("h1", oldJob), put("h1", newJob))
	if !res.Changed || res.Ended != "" || res.Status.State != GroupRollingOut || s.rollout().TaskIndex != 2 {
		t.Fatalf("after deploying: %+v index %d", res, s.rollout().TaskIndex)
	}
	if want := t0 + (testTimout+1)*1000; res.WakeAtMs != want {
		t.Fatalf("WakeAtMs = %d, want %d (when the wait times out)", res.WakeAtMs, want)
	}

	s.w.NowMs += 3000
	s.report("h1", newJob, TaskStatus{State: StateStarting})
	res = s.step(100)
	if res.Changed || len(res.Steps) != 0 || res.WakeAtMs != t0+(testTimout+1)*1000 {
		t.Fatalf("while STARTING: %+v, want a wait until the same timeout", res)
	}

	s.w.NowMs += 1000
	s.running("h1", newJob)
	res = s.step(100)
	wantSteps(t, res, "A:h1")
	wantWrites(t, res.Writes)
	if res.Ended != GroupDone || res.Status.State != GroupDone || res.Status.Error != "" {
		t.Fatalf("after RUNNING: ended %q state %q error %q, want DONE", res.Ended, res.Status.State, res.Status.Error)
	}
	r := s.rollout()
	if r.TaskIndex != len(r.Tasks) || r.Finished != s.w.NowMs || s.w.Status.Active() || s.w.Status.Busy() {
		t.Fatalf("finished rollout: index %d of %d, finished %d, active %v", r.TaskIndex, len(r.Tasks), r.Finished, s.w.Status.Active())
	}
	if res.WakeAtMs != 0 {
		t.Fatalf("a finished rollout asks to be woken at %d", res.WakeAtMs)
	}
}

func TestStepRolloutAwaitsEveryStateButRunning(t *testing.T) {
	for _, st := range []State{"", StatePullingImage, StateCreating, StateStarting, StateHealthchecking, StateExited, StateStopped, StateFailed, StateUnknown} {
		t.Run(string(st)+"-", func(t *testing.T) {
			s := newSim(t, []string{"h1"}, nil)
			s.step(100)
			if st != "" {
				s.report("h1", newJob, TaskStatus{State: st})
			}
			s.w.NowMs = t0 + testTimout*1000
			res := s.step(100)
			if res.Changed || res.Failure != nil || res.WakeAtMs != t0+(testTimout+1)*1000 || s.rollout().TaskIndex != 2 {
				t.Fatalf("state %q: %+v, want a wait at AWAIT_RUNNING", st, res)
			}
		})
	}
}

func TestStepRolloutUndeploysOnlyTheGroupsJobs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(s *sim)
		want  []HostWrite
		prev  []JobID // what Previous records for h1
	}{
		{"nothing deployed", func(s *sim) {}, []HostWrite{put("h1", newJob)}, nil},
		{"the group's old job", func(s *sim) { s.deploy("h1", oldJob, grp, GoalStart) }, []HostWrite{del("h1", oldJob), put("h1", newJob)}, []JobID{oldJob}},
		{"the group's stopped old job", func(s *sim) { s.deploy("h1", oldJob, grp, GoalStop) }, []HostWrite{del("h1", oldJob), put("h1", newJob)}, []JobID{oldJob}},
		{"a manual job stays", func(s *sim) { s.deploy("h1", handJob, "", GoalStart) }, []HostWrite{put("h1", newJob)}, nil},
		{"another group's job stays", func(s *sim) { s.deploy("h1", oldJob, "other-group", GoalStart) }, []HostWrite{put("h1", newJob)}, nil},
		{"the group's running copy of the job stays", func(s *sim) { s.deploy("h1", newJob, grp, GoalStart) }, nil, nil},
		// Undeployed and deployed again in the same round: one write, back to START.
		{"the group's stopped copy of the job is restarted", func(s *sim) { s.deploy("h1", newJob, grp, GoalStop) }, []HostWrite{put("h1", newJob)}, []JobID{newJob}},
		{"several of the group's jobs", func(s *sim) {
			s.deploy("h1", oldJob, grp, GoalStart)
			s.deploy("h1", "foo:0", grp, GoalStart)
			s.deploy("h1", handJob, "", GoalStart)
		}, []HostWrite{del("h1", "foo:0"), del("h1", oldJob), put("h1", newJob)}, []JobID{"foo:0", oldJob}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, []string{"h1"}, nil)
			tc.setup(s)
			before := maps.Clone(s.w.Hosts["h1"].Deployments)
			res := s.step(100)
			wantSteps(t, res, "U:h1", "D:h1")
			wantWrites(t, res.Writes, tc.want...)
			var prev []JobID
			for _, d := range s.rollout().Previous["h1"] {
				if d != before[d.JobID] {
					t.Errorf("Previous records %+v, the host had %+v", d, before[d.JobID])
				}
				prev = append(prev, d.JobID)
			}
			if !slices.Equal(prev, tc.prev) {
				t.Errorf("Previous[h1] = %v, want %v", prev, tc.prev)
			}
			for id, d := range before {
				if d.DeploymentGroupName != grp && s.w.Hosts["h1"].Deployments[id] != d {
					t.Errorf("deployment %s not the group's was touched", id)
				}
			}
		})
	}
}

func TestStepRolloutRunsTheWholePlanInOneRoundWhenNothingWaits(t *testing.T) {
	s := newSim(t, []string{"h1", "h2", "h3"}, nil)
	for _, h := range []string{"h1", "h2", "h3"} {
		s.deploy(h, newJob, grp, GoalStart)
		s.running(h, newJob)
	}
	res := s.step(100)
	wantSteps(t, res, "U:h1", "D:h1", "A:h1", "U:h2", "D:h2", "A:h2", "U:h3", "D:h3", "A:h3")
	wantWrites(t, res.Writes)
	if res.Status.State != GroupDone || res.Ended != GroupDone {
		t.Fatalf("state %q ended %q, want DONE", res.Status.State, res.Ended)
	}
}

func TestStepRolloutRunsABatchInOneRound(t *testing.T) {
	s := newSim(t, []string{"h1", "h2", "h3"}, func(o *RolloutOptions) { o.Parallelism = ptr(2) })
	res := s.step(100)
	wantSteps(t, res, "U:h1", "D:h1", "U:h2", "D:h2")
	wantWrites(t, res.Writes, put("h1", newJob), put("h2", newJob))
	s.running("h2", newJob)
	if res = s.step(100); len(res.Steps) != 0 {
		t.Fatalf("h2 RUNNING before h1: steps %v, want a wait for h1 first", res.Steps)
	}
	s.running("h1", newJob)
	res = s.step(100)
	wantSteps(t, res, "A:h1", "A:h2", "U:h3", "D:h3")
	wantWrites(t, res.Writes, put("h3", newJob))
}

func TestStepRolloutWriteBudgetEndsTheRoundAndTheNextResumes(t *testing.T) {
	s := newSim(t, []string{"h1", "h2", "h3"}, func(o *RolloutOptions) { o.Parallelism = ptr(3) })
	for _, h := range []string{"h1", "h2", "h3"} {
		s.deploy(h, oldJob, grp, GoalStart)
	}
	// A deploy is never parted from the undeploy before it: the round goes one over.
	res := s.step(1)
	wantSteps(t, res, "U:h1", "D:h1")
	wantWrites(t, res.Writes, del("h1", oldJob), put("h1", newJob))
	if s.rollout().TaskIndex != 2 || res.Status.State != GroupRollingOut {
		t.Fatalf("index %d state %s, want 2 ROLLING_OUT", s.rollout().TaskIndex, res.Status.State)
	}
	res = s.step(3)
	wantSteps(t, res, "U:h2", "D:h2", "U:h3", "D:h3")
	wantWrites(t, res.Writes, del("h2", oldJob), put("h2", newJob), del("h3", oldJob), put("h3", newJob))
	if s.rollout().TaskIndex != 6 {
		t.Fatalf("index %d, want 6", s.rollout().TaskIndex)
	}
	for _, h := range []string{"h1", "h2", "h3"} {
		s.running(h, newJob)
	}
	// Awaits write nothing: the budget does not stop them.
	res = s.step(1)
	wantSteps(t, res, "A:h1", "A:h2", "A:h3")
	if res.Status.State != GroupDone {
		t.Fatalf("state %s, want DONE", res.Status.State)
	}
}

func TestStepRolloutMigrateTakesOverAManualDeploymentInOneWrite(t *testing.T) {
	for _, budget := range []int{1, 100} {
		s := newSim(t, []string{"h1"}, func(o *RolloutOptions) { o.Migrate = ptr(true) })
		manual := s.deploy("h1", newJob, "", GoalStart)
		other := s.deploy("h1", handJob, "", GoalStart)
		s.running("h1", newJob, handJob)
		res := s.step(budget)
		if len(res.Steps) < 2 {
			t.Fatalf("budget %d: steps %v", budget, res.Steps)
		}
		wantSteps(t, StepResult{Steps: res.Steps[:2]}, "U:h1", "D:h1")
		// Never a delete then a put of the same deployment: the agent would stop the
		// container between the two.
		wantWrites(t, res.Writes, put("h1", newJob))
		if got := s.rollout().Previous["h1"]; !reflect.DeepEqual(got, []Deployment{manual}) {
			t.Fatalf("budget %d: Previous[h1] = %+v, want the manual deployment %+v", budget, got, manual)
		}
		if s.w.Hosts["h1"].Deployments[handJob] != other {
			t.Fatalf("budget %d: migrate touched another manual job", budget)
		}
		if res.Status.State != GroupDone {
			res = s.step(budget) // the container runs on, now the group's
		}
		if res.Status.State != GroupDone {
			t.Fatalf("budget %d: state %s error %q, want DONE", budget, res.Status.State, res.Status.Error)
		}
	}
}

func TestStepRolloutMigrateAlsoUndeploysTheGroupsOldJob(t *testing.T) {
	s := newSim(t, []string{"h1"}, func(o *RolloutOptions) { o.Migrate = ptr(true) })
	s.deploy("h1", oldJob, grp, GoalStart)
	s.deploy("h1", newJob, "", GoalStart)
	res := s.step(100)
	wantWrites(t, res.Writes, del("h1", oldJob), put("h1", newJob))
}

func TestStepRolloutFailures(t *testing.T) {
	const portMsg = "Allocation of port 8080 for job foo:2 collides with job bar:1 on host h1 (the conflicting job was deployed manually or by a different deployment group)"
	for _, tc := range []struct {
		name    string
		mod     func(*RolloutOptions)
		setup   func(s *sim)
		between func(s *sim) // if set, a first round runs before it, and the failure comes in the second
		at      RolloutAction
		want    string
	}{
		{
			name: "wrong token on deploy", setup: func(s *sim) { s.w.Jobs[newJob] = &Job{ID: newJob, Token: "secret"} },
			at: ActionDeployNewJob, want: "h1: TOKEN_VERIFICATION_ERROR: Token verification failed for job foo:2",
		},
		{
			name: "wrong token on undeploy", mod: func(o *RolloutOptions) { o.Token = ptr("secret") },
			setup: func(s *sim) {
				s.w.Jobs[newJob] = &Job{ID: newJob, Token: "secret"}
				s.w.Jobs[oldJob] = &Job{ID: oldJob, Token: "other"}
				s.deploy("h1", oldJob, grp, GoalStart)
			},
			at: ActionUndeployOldJobs, want: "h1: TOKEN_VERIFICATION_ERROR: Token verification failed for job foo:1",
		},
		{
			name: "job missing", setup: func(s *sim) { delete(s.w.Jobs, newJob) },
			at: ActionDeployNewJob, want: "h1: JOB_NOT_FOUND: job does not exist: foo:2",
		},
		{
			name: "host not registered", setup: func(s *sim) { s.w.Hosts["h1"].Registered = false },
			at: ActionUndeployOldJobs, want: "h1: HOST_NOT_FOUND: host h1 is not registered",
		},
		{
			name: "host deregistered between undeploy and deploy", setup: func(s *sim) {},
			between: func(s *sim) {
				s.w.Status.Rollout.TaskIndex = 1 // as if the round had ended after UNDEPLOY_OLD_JOBS
				s.w.Hosts["h1"].Registered = false
			},
			at: ActionDeployNewJob, want: "h1: HOST_NOT_FOUND: host h1 is not registered",
		},
		{
			name: "port conflict with a manual job", setup: func(s *sim) {
				s.deploy("h1", handJob, "", GoalStart)
				s.staticPort(newJob, 8080)
				s.staticPort(handJob, 8080)
			},
			at: ActionDeployNewJob, want: "h1: PORT_CONFLICT: " + portMsg,
		},
		{
			name: "port conflict with the old job under overlap", mod: func(o *RolloutOptions) { o.Overlap = ptr(true) },
			setup: func(s *sim) {
				s.deploy("h1", oldJob, grp, GoalStart)
				s.staticPort(newJob, 8080)
				s.staticPort(oldJob, 8080)
			},
			at: ActionDeployNewJob, want: "h1: PORT_CONFLICT: " + strings.Replace(portMsg, "bar:1", "foo:1", 1),
		},
		{
			name: "job deployed by hand without migrate", setup: func(s *sim) {
				s.deploy("h1", newJob, "", GoalStart)
				s.running("h1", newJob)
			},
			at: ActionAwaitRunning, want: "h1: JOB_ALREADY_DEPLOYED: job was already deployed, either manually or by a different deployment group",
		},
		{
			name: "job deployed by another group", setup: func(s *sim) {
				s.deploy("h1", newJob, "other-group", GoalStart)
				s.running("h1", newJob)
			},
			at: ActionAwaitRunning, want: "h1: JOB_ALREADY_DEPLOYED: job was already deployed, either manually or by a different deployment group",
		},
		{
			name: "job undeployed meanwhile", setup: func(s *sim) {},
			between: func(s *sim) { delete(s.w.Hosts["h1"].Deployments, newJob) },
			at:      ActionAwaitRunning, want: "h1: JOB_UNEXPECTEDLY_UNDEPLOYED: Job unexpectedly undeployed. Perhaps it was manually undeployed?",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, []string{"h1", "h2"}, tc.mod)
			tc.setup(s)
			if tc.between != nil {
				if res := s.step(100); res.Failure != nil {
					t.Fatalf("first round failed already: %v", res.Failure)
				}
				tc.between(s)
			}
			res := s.step(100)
			if res.Failure == nil {
				t.Fatalf("no failure; status %+v", res.Status)
			}
			if got := res.Failure.Error(); got != tc.want {
				t.Fatalf("failure:\n got %q\nwant %q", got, tc.want)
			}
			r := s.rollout()
			if res.Status.State != GroupFailed || res.Status.Error != tc.want || res.Ended != GroupFailed || !res.Changed {
				t.Fatalf("status %s %q ended %q, want FAILED with the failure", res.Status.State, res.Status.Error, res.Ended)
			}
			if got := r.Tasks[r.TaskIndex]; got.Action != tc.at || got.Target != "h1" {
				t.Fatalf("stopped at %v, want %s:h1", got, tc.at)
			}
			if r.Finished != s.w.NowMs || s.w.Status.Active() || r.RollingBack {
				t.Fatalf("failed rollout still going: %+v", r)
			}
			// A failed rollout stays failed: another round changes nothing.
			if again := s.step(100); again.Changed || len(again.Writes) > 0 {
				t.Fatalf("round after the failure: %+v", again)
			}
		})
	}
}

func TestStepRolloutWithTheRightTokenSucceeds(t *testing.T) {
	s := newSim(t, []string{"h1"}, func(o *RolloutOptions) { o.Token = ptr("secret") })
	s.w.Jobs[newJob] = &Job{ID: newJob, Token: "secret"}
	s.w.Jobs[oldJob] = &Job{ID: oldJob, Token: "secret"}
	s.deploy("h1", oldJob, grp, GoalStart)
	res := s.step(100)
	if res.Failure != nil {
		t.Fatalf("failure %v", res.Failure)
	}
	wantWrites(t, res.Writes, del("h1", oldJob), put("h1", newJob))
}

func TestStepRolloutOldJobsPortIsFreeForTheNewJob(t *testing.T) {
	s := newSim(t, []string{"h1"}, nil)
	s.deploy("h1", oldJob, grp, GoalStart)
	s.staticPort(oldJob, 8080)
	s.staticPort(newJob, 8080)
	res := s.step(100)
	if res.Failure != nil {
		t.Fatalf("failure %v", res.Failure)
	}
	wantWrites(t, res.Writes, del("h1", oldJob), put("h1", newJob))
}

func TestStepRolloutTimeoutIsStrictWholeSeconds(t *testing.T) {
	const base = "h1: TIMED_OUT_WAITING_FOR_JOB_TO_REACH_RUNNING: timed out waiting for job foo:2 to reach state RUNNING "
	for _, tc := range []struct {
		name string
		ts   *TaskStatus
		want string
	}{
		{"no status", nil, "h1: TIMED_OUT_WAITING_FOR_JOB_TO_REACH_RUNNING: timed out while retrieving job status"},
		{"starting", &TaskStatus{State: StateStarting}, base + "(terminal job state STARTING)"},
		{"flapping", &TaskStatus{State: StateExited, Throttled: ThrottleFlapping}, base + "(terminal job state EXITED)"},
		{"image missing", &TaskStatus{State: StatePullingImage, Throttled: ThrottleImageMissing},
			"h1: IMAGE_MISSING: timed out waiting for job foo:2 to reach state RUNNING due to missing Docker image (terminal job state PULLING_IMAGE)"},
		{"image pull failed", &TaskStatus{State: StateFailed, Throttled: ThrottleImagePullFailed},
			"h1: IMAGE_PULL_FAILED: timed out waiting for job foo:2 to reach state RUNNING due to failure pulling Docker image (terminal job state FAILED)"},
		{"container error", &TaskStatus{State: StateExited, ContainerError: "exec: no such file"},
			base + "(terminal job state EXITED) container error: exec: no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, []string{"h1"}, nil)
			s.step(100) // deploys at t0: the wait counts from there
			if tc.ts != nil {
				s.report("h1", newJob, *tc.ts)
			}
			for _, now := range []int64{t0 + testTimout*1000, t0 + (testTimout+1)*1000 - 1} {
				s.w.NowMs = now
				if res := s.step(100); res.Failure != nil || res.Changed {
					t.Fatalf("at %d ms after the step: %+v, want still waiting (%d s is not more than %d)", now-t0, res.Failure, (now-t0)/1000, testTimout)
				}
			}
			s.w.NowMs = t0 + (testTimout+1)*1000
			res := s.step(100)
			if res.Failure == nil || res.Failure.Error() != tc.want || res.Status.Error != tc.want || res.Status.State != GroupFailed {
				t.Fatalf("at timeout+1 s: failure %v status %s %q\nwant %q", res.Failure, res.Status.State, res.Status.Error, tc.want)
			}
		})
	}
}

func TestStepRolloutTimeoutCountsFromTheLastCompletedStep(t *testing.T) {
	s := newSim(t, []string{"h1", "h2"}, nil)
	s.step(100)
	s.w.NowMs = t0 + 9000
	s.running("h1", newJob)
	res := s.step(100)
	wantSteps(t, res, "A:h1", "U:h2", "D:h2")
	s.w.NowMs = t0 + 9000 + (testTimout+1)*1000 - 1 // 19.999 s after the rollout began
	if res = s.step(100); res.Failure != nil {
		t.Fatalf("h2 timed out counting from the rollout's start: %v", res.Failure)
	}
	if res.WakeAtMs != t0+9000+(testTimout+1)*1000 {
		t.Fatalf("WakeAtMs = %d, want %d", res.WakeAtMs, t0+9000+(testTimout+1)*1000)
	}
	s.w.NowMs++
	if res = s.step(100); res.Failure == nil || res.Failure.Host != "h2" {
		t.Fatalf("no timeout on h2 at the wake time: %+v", res)
	}
}

func TestStepRolloutUndeploysFromRemovedHosts(t *testing.T) {
	s := newSim(t, nil, nil)
	opts := options(func(o *RolloutOptions) { o.Timeout = ptr(testTimout) })
	s.w.Hosts["h1"] = &HostView{Registered: true, Up: true, Deployments: map[JobID]Deployment{}, Statuses: map[JobID]TaskStatus{}}
	s.w.Hosts["gone"] = &HostView{Registered: true, Up: true, Deployments: map[JobID]Deployment{}, Statuses: map[JobID]TaskStatus{}}
	s.w.Status = StartRollout(GroupStatus{Hosts: []string{"h1"}, Removed: []string{"gone"}}, newJob, ReasonHostsChanged, opts, allHosts, t0)
	s.keepStatuses = true
	s.deploy("gone", newJob, grp, GoalStart) // even the current job goes
	s.deploy("gone", oldJob, grp, GoalStop)
	manual := s.deploy("gone", handJob, "", GoalStart)
	s.running("gone", newJob, handJob)

	res := s.step(100)
	wantSteps(t, res, "F:gone")
	wantWrites(t, res.Writes, del("gone", oldJob), del("gone", newJob))
	if res.WakeAtMs != t0+(testTimout+1)*1000 {
		t.Fatalf("WakeAtMs = %d while the agent still reports the job", res.WakeAtMs)
	}
	s.w.NowMs += 2000
	delete(s.w.Hosts["gone"].Statuses, newJob)
	res = s.step(100)
	wantSteps(t, res, "W:gone", "M:gone", "U:h1", "D:h1")
	if len(res.Status.Removed) != 0 || !slices.Equal(res.Status.Hosts, []string{"h1"}) {
		t.Fatalf("members %v removed %v, want [h1] []", res.Status.Hosts, res.Status.Removed)
	}
	if s.w.Hosts["gone"].Deployments[handJob] != manual {
		t.Fatal("the manual job of a removed host was undeployed")
	}
}

func TestStepRolloutTimesOutWaitingForUndeploy(t *testing.T) {
	s := newSim(t, nil, nil)
	opts := options(func(o *RolloutOptions) { o.Timeout = ptr(testTimout) })
	s.w.Hosts["gone"] = &HostView{Registered: true, Up: true, Deployments: map[JobID]Deployment{}, Statuses: map[JobID]TaskStatus{}}
	s.w.Status = StartRollout(GroupStatus{Removed: []string{"gone"}}, newJob, ReasonHostsChanged, opts, allHosts, t0)
	s.keepStatuses = true
	s.deploy("gone", newJob, grp, GoalStart)
	s.running("gone", newJob)
	s.step(100)
	s.w.NowMs = t0 + (testTimout+1)*1000
	res := s.step(100)
	if want := "gone: TIMED_OUT_WAITING_FOR_JOB_TO_UNDEPLOY: timed out while waiting for job undeployment"; res.Status.Error != want {
		t.Fatalf("error %q, want %q", res.Status.Error, want)
	}
}

func TestStepRolloutForgetsADeregisteredRemovedHost(t *testing.T) {
	s := newSim(t, nil, nil)
	s.w.Hosts["gone"] = &HostView{}
	s.w.Status = StartRollout(GroupStatus{Removed: []string{"gone"}}, newJob, ReasonHostsChanged, options(nil), allHosts, t0)
	res := s.step(100)
	wantSteps(t, res, "F:gone", "W:gone", "M:gone")
	wantWrites(t, res.Writes)
	if res.Status.State != GroupDone || len(res.Status.Removed) != 0 {
		t.Fatalf("state %s removed %v, want DONE []", res.Status.State, res.Status.Removed)
	}
}

func TestStepRolloutEndsTheRoundAtAHostNotRead(t *testing.T) {
	s := newSim(t, []string{"h1", "h2"}, nil)
	delete(s.w.Hosts, "h2")
	s.deploy("h1", newJob, grp, GoalStart)
	s.running("h1", newJob)
	res := s.step(100)
	wantSteps(t, res, "U:h1", "D:h1", "A:h1")
	if res.Failure != nil || res.Status.State != GroupRollingOut || s.rollout().TaskIndex != 3 {
		t.Fatalf("%+v, want a round ending before h2's first task", res)
	}
}

func TestStepRolloutDoesNothingUnlessRunning(t *testing.T) {
	two := tasks("U:h1", "D:h1")
	for _, st := range []GroupStatus{
		{},
		{State: GroupDone, Hosts: []string{"h1"}, Rollout: &Rollout{JobID: newJob, Tasks: two, TaskIndex: 2}},
		{State: GroupFailed, Error: "h1: x", Hosts: []string{"h1"}, Rollout: &Rollout{JobID: newJob, Tasks: two}},
		{State: GroupPaused, Hosts: []string{"h1"}, Rollout: &Rollout{JobID: newJob, Tasks: tasks("P", "U:h1")}},
	} {
		s := newSim(t, []string{"h1"}, nil)
		s.w.Status = st
		if res := s.step(100); res.Changed || len(res.Writes) > 0 || len(res.Steps) > 0 || res.Ended != "" || res.WakeAtMs != 0 {
			t.Errorf("state %q: %+v, want nothing", st.State, res)
		}
	}
}

func TestStepRolloutIgnoresFailuresWhenAsked(t *testing.T) {
	s := newSim(t, []string{"h1", "h2"}, func(o *RolloutOptions) { o.IgnoreFailures = ptr(true) })
	s.deploy("h1", handJob, "", GoalStart)
	s.staticPort(newJob, 8080)
	s.staticPort(handJob, 8080)
	res := s.step(100)
	if len(res.Ignored) != 2 || res.Ignored[0].Word != RolloutPortConflict || res.Ignored[1].Word != RolloutUnexpectedlyUndeploy ||
		!strings.HasPrefix(res.Ignored[0].Error(), "h1: PORT_CONFLICT: Allocation of port 8080") {
		t.Fatalf("ignored %v, want h1's port conflict then its missing deployment", res.Ignored)
	}
	if res.Failure != nil || res.Status.State != GroupRollingOut || res.Status.Error != "" {
		t.Fatalf("an ignored failure failed the rollout: %+v", res.Status)
	}
	wantSteps(t, res, "U:h1", "D:h1", "A:h1", "U:h2", "D:h2")
	wantWrites(t, res.Writes, put("h2", newJob))
	s.running("h2", newJob)
	res = s.step(100)
	if res.Status.State != GroupDone || res.Status.Error != "" {
		t.Fatalf("state %s %q, want DONE", res.Status.State, res.Status.Error)
	}
}

func TestStepRolloutIgnoresATimeoutWhenAsked(t *testing.T) {
	s := newSim(t, []string{"h1", "h2"}, func(o *RolloutOptions) { o.IgnoreFailures = ptr(true) })
	s.step(100)
	s.w.NowMs = t0 + (testTimout+1)*1000
	s.running("h2", newJob)
	res := s.step(100)
	if len(res.Ignored) != 1 || res.Ignored[0].Word != RolloutTimedOutRunning || res.Status.State != GroupDone {
		t.Fatalf("ignored %v state %s, want h1's timeout ignored and DONE", res.Ignored, res.Status.State)
	}
}

// rollbackSim is three hosts running the group's old job, a rollout that got h1 RUNNING
// and then failed on h2 (its new job never came up), and the round that failed.
func rollbackSim(t *testing.T, mod func(*RolloutOptions), beforeFailure func(s *sim)) (*sim, StepResult, map[string]map[JobID]Deployment) {
	t.Helper()
	s := newSim(t, []string{"h1", "h2", "h3"}, func(o *RolloutOptions) {
		o.AutoRollback = ptr(true)
		if mod != nil {
			mod(o)
		}
	})
	for _, h := range []string{"h1", "h2", "h3"} {
		s.deploy(h, oldJob, grp, GoalStart)
		s.running(h, oldJob)
	}
	before := map[string]map[JobID]Deployment{}
	for h, v := range s.w.Hosts {
		before[h] = maps.Clone(v.Deployments)
	}
	for i := 0; s.rollout().Tasks[s.rollout().TaskIndex].Target != "h2" || s.rollout().Tasks[s.rollout().TaskIndex].Action != ActionAwaitRunning; i++ {
		if i > 5 {
			t.Fatalf("never reached AWAIT_RUNNING h2: %+v", s.rollout())
		}
		s.step(100)
		s.running("h1", newJob)
	}
	s.report("h2", newJob, TaskStatus{State: StateExited, ContainerError: "boom"})
	if beforeFailure != nil {
		beforeFailure(s)
	}
	s.w.NowMs = s.rollout().StepStarted + (testTimout+1)*1000
	res := s.step(100)
	if res.Failure == nil || res.Failure.Host != "h2" {
		t.Fatalf("no failure on h2: %+v", res)
	}
	return s, res, before
}

const h2Timeout = "h2: TIMED_OUT_WAITING_FOR_JOB_TO_REACH_RUNNING: timed out waiting for job foo:2 to reach state RUNNING (terminal job state EXITED) container error: boom"

func TestStepRolloutRollsBackTheHostsItChanged(t *testing.T) {
	for _, tc := range []struct {
		par   int
		plan  []RolloutTask
		hosts []string // whose writes the failing round makes, until it waits for h1's old job
	}{
		{1, tasks("RU:h1", "RR:h1", "A:h1=foo:1", "RU:h2", "RR:h2", "A:h2=foo:1"), []string{"h1"}},
		{2, tasks("RU:h1", "RR:h1", "RU:h2", "RR:h2", "A:h1=foo:1", "A:h2=foo:1"), []string{"h1", "h2"}},
	} {
		s, res, before := rollbackSim(t, func(o *RolloutOptions) { o.Parallelism = ptr(tc.par) }, nil)
		r := s.rollout()
		if !reflect.DeepEqual(r.Tasks, tc.plan) {
			t.Fatalf("parallelism %d: rollback plan\n got %v\nwant %v", tc.par, r.Tasks, tc.plan)
		}
		if res.Status.State != GroupFailed || res.Status.Error != h2Timeout || res.Ended != GroupFailed || !r.RollingBack || !s.w.Status.Active() {
			t.Fatalf("parallelism %d: status %s %q rolling back %v, want FAILED with h2's error, rolling back", tc.par, res.Status.State, res.Status.Error, r.RollingBack)
		}
		// The round that failed goes on with the rollback until it waits for h1's old job.
		var want []HostWrite
		for _, h := range tc.hosts {
			want = append(want, del(h, newJob), HostWrite{Host: h, Job: oldJob, Deployment: ptr(before[h][oldJob])})
		}
		wantWrites(t, res.Writes, want...)
		s.running("h1", oldJob)
		s.running("h2", oldJob)
		res = s.step(100)
		if !res.Status.RolledBack || res.Status.Rollout.RollingBack || s.w.Status.Active() || s.w.Status.Busy() {
			t.Fatalf("parallelism %d: after the rollback: %+v %+v", tc.par, res.Status, res.Status.Rollout)
		}
		if res.Status.State != GroupFailed || res.Status.Error != h2Timeout || len(res.Status.RollbackErrors) != 0 {
			t.Fatalf("parallelism %d: status %s %q rollback errors %q, want FAILED with h2's error only", tc.par, res.Status.State, res.Status.Error, res.Status.RollbackErrors)
		}
		for h, want := range before {
			if got := s.w.Hosts[h].Deployments; !reflect.DeepEqual(got, want) {
				t.Fatalf("parallelism %d: %s has %+v, want %+v as before", tc.par, h, got, want)
			}
		}
	}
}

func TestStepRolloutRollbackUndeploysFromAHostThatRanNothing(t *testing.T) {
	s := newSim(t, []string{"h1", "h2"}, func(o *RolloutOptions) { o.AutoRollback = ptr(true) })
	s.deploy("h2", handJob, "", GoalStart)
	s.staticPort(newJob, 8080)
	s.staticPort(handJob, 8080)
	s.running("h1", newJob)
	res := s.step(100)
	if res.Failure == nil || res.Failure.Word != RolloutPortConflict || res.Failure.Host != "h2" {
		t.Fatalf("failure %v, want h2's port conflict", res.Failure)
	}
	if want := tasks("RU:h1", "RR:h1"); !reflect.DeepEqual(s.rollout().Tasks, want) {
		t.Fatalf("rollback plan %v, want %v", s.rollout().Tasks, want)
	}
	wantWrites(t, res.Writes, del("h1", newJob))
	if !res.Status.RolledBack || len(s.w.Hosts["h1"].Deployments) != 0 || res.Status.State != GroupFailed {
		t.Fatalf("after the rollback: %+v, h1 runs %v", res.Status, s.w.Hosts["h1"].Deployments)
	}
}

func TestStepRolloutRollbackGivesAMigratedHostItsManualDeploymentBack(t *testing.T) {
	for _, budget := range []int{1, 100} {
		s := newSim(t, []string{"h1", "h2"}, func(o *RolloutOptions) { o.AutoRollback, o.Migrate = ptr(true), ptr(true) })
		manual := map[string]Deployment{}
		for _, h := range []string{"h1", "h2"} {
			manual[h] = s.deploy(h, newJob, "", GoalStart)
			s.running(h, newJob)
		}
		s.keepStatuses = true // the container runs on: the same job is taken over
		s.report("h2", newJob, TaskStatus{State: StateStarting})
		s.step(100)
		if r := s.rollout(); r.Tasks[r.TaskIndex] != (RolloutTask{Action: ActionAwaitRunning, Target: "h2"}) {
			t.Fatalf("budget %d: at %v, want AWAIT_RUNNING h2", budget, r.Tasks[r.TaskIndex])
		}
		s.report("h2", newJob, TaskStatus{State: StateStopping})
		s.w.NowMs = s.rollout().StepStarted + (testTimout+1)*1000
		var writes []HostWrite
		for i := 0; i < 6 && !s.w.Status.RolledBack; i++ {
			res := s.step(budget)
			for _, w := range res.Writes {
				if w.Deployment == nil {
					t.Fatalf("budget %d: round %d undeploys %s from %s: a migrated deployment is put back in one write", budget, i, w.Job, w.Host)
				}
			}
			writes = append(writes, res.Writes...)
			s.running("h2", newJob)
		}
		want := []HostWrite{{Host: "h1", Job: newJob, Deployment: ptr(manual["h1"])}, {Host: "h2", Job: newJob, Deployment: ptr(manual["h2"])}}
		if !reflect.DeepEqual(writes, want) {
			t.Fatalf("budget %d: rollback writes\n got %s\nwant %s", budget, showWrites(writes), showWrites(want))
		}
		if !s.w.Status.RolledBack || len(s.w.Status.RollbackErrors) != 0 {
			t.Fatalf("budget %d: rolled back %v errors %q", budget, s.w.Status.RolledBack, s.w.Status.RollbackErrors)
		}
	}
}

func TestStepRolloutRollbackLeavesAHostWhosePreviousJobIsGone(t *testing.T) {
	s, _, before := rollbackSim(t, nil, func(s *sim) { delete(s.w.Jobs, oldJob) })
	s.running("h2", oldJob)
	for i := 0; i < 3 && !s.w.Status.RolledBack; i++ {
		s.step(100)
	}
	if !s.w.Status.RolledBack {
		t.Fatalf("rollback did not end: %+v", s.rollout())
	}
	want := []string{"h1: job foo:1 no longer exists; host left as it is", "h2: job foo:1 no longer exists; host left as it is"}
	if !slices.Equal(s.w.Status.RollbackErrors, want) {
		t.Fatalf("rollback errors\n got %q\nwant %q", s.w.Status.RollbackErrors, want)
	}
	for _, h := range []string{"h1", "h2"} {
		if got := s.w.Hosts[h].Deployments; !reflect.DeepEqual(got, map[JobID]Deployment{newJob: *put(h, newJob).Deployment}) {
			t.Fatalf("%s has %+v, want the new job left in place", h, got)
		}
	}
	if got := s.w.Hosts["h3"].Deployments; !reflect.DeepEqual(got, before["h3"]) {
		t.Fatalf("h3 changed: %+v", got)
	}
	if s.w.Status.Error != h2Timeout {
		t.Fatalf("error %q, want h2's", s.w.Status.Error)
	}
}

func TestStepRolloutRollbackRecordsItsFailuresAndGoesOn(t *testing.T) {
	// While h1 ran the new job, someone took its old job's port by hand.
	s, _, before := rollbackSim(t, nil, func(s *sim) {
		s.staticPort(oldJob, 9090)
		s.staticPort(handJob, 9090)
		s.deploy("h1", handJob, "", GoalStart)
	})
	s.running("h2", oldJob)
	for i := 0; i < 3 && !s.w.Status.RolledBack; i++ {
		s.w.NowMs += (testTimout + 1) * 1000
		s.step(100)
	}
	if !s.w.Status.RolledBack {
		t.Fatalf("rollback did not end: %+v", s.rollout())
	}
	errs := s.w.Status.RollbackErrors
	if len(errs) == 0 || errs[0] != "h1: PORT_CONFLICT: Allocation of port 9090 for job foo:1 collides with job bar:1 on host h1 (the conflicting job was deployed manually or by a different deployment group)" {
		t.Fatalf("rollback errors %q, want h1's port conflict first", errs)
	}
	for _, e := range errs {
		if !strings.HasPrefix(e, "h1: ") {
			t.Fatalf("rollback error %q about another host than h1", e)
		}
	}
	if got := s.w.Hosts["h2"].Deployments; !reflect.DeepEqual(got, before["h2"]) {
		t.Fatalf("h2 not restored after h1's failure: %+v", got)
	}
	if s.w.Status.State != GroupFailed || s.w.Status.Error != h2Timeout {
		t.Fatalf("status %s %q", s.w.Status.State, s.w.Status.Error)
	}
}

func TestStepRolloutRollbackRestoresWhatItCanOnAHost(t *testing.T) {
	s := newSim(t, []string{"h1", "h2"}, func(o *RolloutOptions) { o.AutoRollback = ptr(true) })
	s.w.Jobs["foo:0"], s.w.Jobs["baz:1"] = &Job{ID: "foo:0"}, &Job{ID: "baz:1"}
	s.deploy("h1", "foo:0", grp, GoalStart)
	old := s.deploy("h1", oldJob, grp, GoalStart)
	s.step(100)
	// Meanwhile foo:0's port went to a job deployed by hand, and h2's deploy fails.
	s.staticPort("foo:0", 9090)
	s.staticPort("baz:1", 9090)
	s.deploy("h1", "baz:1", "", GoalStart)
	s.staticPort(newJob, 8080)
	s.staticPort(handJob, 8080)
	s.deploy("h2", handJob, "", GoalStart)
	s.running("h1", newJob)
	res := s.step(100)
	if res.Failure == nil || res.Failure.Word != RolloutPortConflict || res.Failure.Host != "h2" {
		t.Fatalf("failure %v, want h2's port conflict", res.Failure)
	}
	wantWrites(t, res.Writes, del("h1", newJob), HostWrite{Host: "h1", Job: oldJob, Deployment: &old})
	errs := s.w.Status.RollbackErrors
	if len(errs) == 0 || !strings.HasPrefix(errs[0], "h1: PORT_CONFLICT: Allocation of port 9090 for job foo:0 collides with job baz:1") {
		t.Fatalf("rollback errors %q, want foo:0's port conflict first", errs)
	}
}

func TestStepRolloutRollbackTimeoutIsRecorded(t *testing.T) {
	s, _, _ := rollbackSim(t, nil, nil)
	s.running("h2", oldJob) // h1's old job never comes back up
	s.w.NowMs += (testTimout + 1) * 1000
	s.step(100)
	for i := 0; i < 3 && !s.w.Status.RolledBack; i++ {
		s.step(100)
	}
	want := []string{"h1: TIMED_OUT_WAITING_FOR_JOB_TO_REACH_RUNNING: timed out while retrieving job status"}
	if !s.w.Status.RolledBack || !slices.Equal(s.w.Status.RollbackErrors, want) {
		t.Fatalf("rolled back %v errors %q, want %q", s.w.Status.RolledBack, s.w.Status.RollbackErrors, want)
	}
}

func TestStopRollout(t *testing.T) {
	s := newSim(t, []string{"h1", "h2"}, nil)
	s.step(100)
	before := string(mustJSON(t, s.w.Status))
	got := StopRollout(s.w.Status, t0+5)
	if got.State != GroupFailed || got.Error != StoppedByUser || got.Rollout.RollingBack || got.Active() || got.Rollout.Finished != t0+5 {
		t.Fatalf("stopped: %+v %+v", got, got.Rollout)
	}
	if string(mustJSON(t, s.w.Status)) != before {
		t.Fatal("StopRollout changed its input")
	}
	if RollOnHostChange(s.w.Group, got) {
		t.Fatal("a stopped manual rollout would restart on a host change")
	}
}

func TestStopRolloutRollsBackWhenAsked(t *testing.T) {
	s := newSim(t, []string{"h1", "h2"}, func(o *RolloutOptions) { o.AutoRollback = ptr(true) })
	old := s.deploy("h1", oldJob, grp, GoalStart)
	s.step(100)
	s.w.Status = StopRollout(s.w.Status, t0+5)
	if want := tasks("RU:h1", "RR:h1", "A:h1=foo:1"); !reflect.DeepEqual(s.rollout().Tasks, want) || !s.w.Status.Active() {
		t.Fatalf("plan %v active %v, want %v", s.rollout().Tasks, s.w.Status.Active(), want)
	}
	if again := StopRollout(s.w.Status, t0+6); !reflect.DeepEqual(again.Rollout.Tasks, s.rollout().Tasks) || again.Rollout.TaskIndex != 0 {
		t.Fatal("stopping a rollback changed it")
	}
	s.running("h1", oldJob)
	res := s.step(100)
	wantWrites(t, res.Writes, del("h1", newJob), HostWrite{Host: "h1", Job: oldJob, Deployment: &old})
	if !res.Status.RolledBack || res.Status.Error != StoppedByUser || res.Status.State != GroupFailed {
		t.Fatalf("after the rollback: %+v", res.Status)
	}
}

func TestStopRolloutBeforeAnyChangeHasNothingToRollBack(t *testing.T) {
	s := newSim(t, []string{"h1"}, func(o *RolloutOptions) { o.AutoRollback = ptr(true) })
	got := StopRollout(s.w.Status, t0)
	if got.State != GroupFailed || got.Error != StoppedByUser {
		t.Fatalf("stopped: %+v", got)
	}
	// Not left "rolling back" with nothing to do, which nobody would ever finish.
	if got.Rollout.RollingBack && !got.Active() {
		t.Fatalf("rolling back %v with %d tasks and not active", got.Rollout.RollingBack, len(got.Rollout.Tasks))
	}
}

func TestStopRolloutOfAFinishedGroup(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    GroupStatus
	}{
		{"idle", GroupStatus{Hosts: []string{"h1"}}},
		{"done", GroupStatus{State: GroupDone, Hosts: []string{"h1"}, Rollout: &Rollout{
			JobID: newJob, Options: options(func(o *RolloutOptions) { o.AutoRollback = ptr(true) }),
			Tasks: tasks("U:h1", "D:h1", "A:h1"), TaskIndex: 3, Fresh: map[string]bool{"h1": true},
			Previous: map[string][]Deployment{"h1": {{JobID: oldJob, Goal: GoalStart, DeploymentGroupName: grp}}},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := StopRollout(tc.s, t0)
			if got.State != GroupFailed || got.Error != StoppedByUser {
				t.Fatalf("stopped: %+v", got)
			}
			// Stopping stops a rollout; it does not undo one that finished.
			if got.Active() || (got.Rollout != nil && got.Rollout.RollingBack) {
				t.Fatalf("stopping a %s group starts a rollback: %+v", tc.name, got.Rollout)
			}
		})
	}
}

func TestCanaryRolloutPausesUntilPromoted(t *testing.T) {
	s := newSim(t, []string{"h1", "h2"}, func(o *RolloutOptions) { o.Canary = ptr(1) })
	s.running("h1", newJob)
	res := s.step(100)
	wantSteps(t, res, "U:h1", "D:h1", "A:h1")
	if res.Status.State != GroupPaused || res.Ended != GroupPaused || !res.Changed {
		t.Fatalf("state %s ended %q, want PAUSED", res.Status.State, res.Ended)
	}
	if r := s.rollout(); r.Tasks[r.TaskIndex].Action != ActionAwaitPromotion || s.w.Status.Active() || !s.w.Status.Busy() {
		t.Fatalf("paused at %v active %v", r.Tasks[r.TaskIndex], s.w.Status.Active())
	}
	if res = s.step(100); res.Changed || len(res.Steps) > 0 {
		t.Fatalf("a paused rollout went on by itself: %+v", res)
	}
	promoted, ok := PromoteRollout(s.w.Status, t0+50)
	if !ok || promoted.State != GroupRollingOut || promoted.Rollout.TaskIndex != 4 || promoted.Rollout.StepStarted != t0+50 {
		t.Fatalf("promoted %v: %+v %+v", ok, promoted, promoted.Rollout)
	}
	if s.w.Status.State != GroupPaused || s.rollout().TaskIndex != 3 {
		t.Fatal("PromoteRollout changed its input")
	}
	s.w.Status = promoted
	s.running("h2", newJob)
	res = s.step(100)
	wantSteps(t, res, "U:h2", "D:h2", "A:h2")
	if res.Status.State != GroupDone {
		t.Fatalf("state %s, want DONE", res.Status.State)
	}
}

func TestPromoteRolloutOnlyFromAPause(t *testing.T) {
	plan := tasks("U:h1", "D:h1", "A:h1", "P", "U:h2")
	for _, tc := range []struct {
		name string
		s    GroupStatus
	}{
		{"idle", GroupStatus{}},
		{"rolling out", GroupStatus{State: GroupRollingOut, Rollout: &Rollout{Tasks: plan, TaskIndex: 1}}},
		{"rolling out at the pause", GroupStatus{State: GroupRollingOut, Rollout: &Rollout{Tasks: plan, TaskIndex: 3}}},
		{"done", GroupStatus{State: GroupDone, Rollout: &Rollout{Tasks: plan, TaskIndex: 5}}},
		{"failed", GroupStatus{State: GroupFailed, Rollout: &Rollout{Tasks: plan, TaskIndex: 3}}},
		{"paused elsewhere", GroupStatus{State: GroupPaused, Rollout: &Rollout{Tasks: plan, TaskIndex: 2}}},
		{"paused past the end", GroupStatus{State: GroupPaused, Rollout: &Rollout{Tasks: plan, TaskIndex: 5}}},
		{"paused without a rollout", GroupStatus{State: GroupPaused}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := PromoteRollout(tc.s, t0)
			if ok || !reflect.DeepEqual(got, tc.s) {
				t.Fatalf("promoted %v to %+v, want refused and unchanged", ok, got)
			}
		})
	}
}

func TestStepRolloutLeavesItsInputUnchanged(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T) RolloutWorld
	}{
		{"deploying", func(t *testing.T) RolloutWorld {
			s := newSim(t, []string{"h1", "h2"}, func(o *RolloutOptions) { o.Parallelism = ptr(2) })
			s.deploy("h1", oldJob, grp, GoalStart)
			s.staticPort(newJob, 8080)
			return s.w
		}},
		{"migrating", func(t *testing.T) RolloutWorld {
			s := newSim(t, []string{"h1"}, func(o *RolloutOptions) { o.Migrate = ptr(true) })
			s.deploy("h1", newJob, "", GoalStart)
			return s.w
		}},
		{"failing into a rollback", func(t *testing.T) RolloutWorld {
			s, _, _ := rollbackSim(t, nil, nil)
			// The round before the failure, replayed: h2 times out.
			s.w.Status.Rollout.RollingBack, s.w.Status.State, s.w.Status.Error = false, GroupRollingOut, ""
			s.w.Status.Rollout.Tasks = tasks("U:h1", "D:h1", "A:h1", "U:h2", "D:h2", "A:h2")
			s.w.Status.Rollout.TaskIndex = 5
			s.w.Status.Rollout.Previous = map[string][]Deployment{"h1": {{JobID: oldJob, Goal: GoalStart, DeploymentGroupName: grp}}}
			s.w.Status.Rollout.Fresh = map[string]bool{"h1": true, "h2": true}
			s.w.Hosts["h1"].Deployments = map[JobID]Deployment{newJob: *put("h1", newJob).Deployment}
			s.w.Hosts["h2"].Deployments = map[JobID]Deployment{newJob: *put("h2", newJob).Deployment}
			s.w.NowMs += (testTimout + 1) * 1000
			return s.w
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.make(t)
			before := string(mustJSON(t, w))
			res := StepRollout(w, 100)
			if !res.Changed {
				t.Fatal("the round did nothing: the check proves nothing")
			}
			if after := string(mustJSON(t, w)); after != before {
				t.Fatalf("StepRollout changed its input world:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// fuzzBytes hands out the fuzz input a byte at a time, then zeros.
type fuzzBytes []byte

func (f *fuzzBytes) next() byte {
	if len(*f) == 0 {
		return 0
	}
	c := (*f)[0]
	*f = (*f)[1:]
	return c
}

func (f *fuzzBytes) n(k int) int { return int(f.next()) % k }
func (f *fuzzBytes) yes() bool   { return f.next()&1 == 1 }

// fuzzWorld builds a small world and a started rollout from the fuzz input.
func fuzzWorld(f *fuzzBytes) *sim {
	tokens := []string{"", "t"}
	o := options(func(o *RolloutOptions) {
		o.Timeout, o.Parallelism, o.Canary = ptr(int64(1+f.n(3))), ptr(1+f.n(3)), ptr(f.n(3))
		o.Migrate, o.Overlap, o.IgnoreFailures, o.AutoRollback = ptr(f.yes()), ptr(f.yes()), ptr(f.yes()), ptr(f.yes())
		o.Token = ptr(tokens[f.n(2)])
	})
	s := &sim{w: RolloutWorld{
		Group: DeploymentGroup{Name: grp, JobID: newJob, RolloutOptions: &o},
		Jobs:  map[JobID]*Job{}, Hosts: map[string]*HostView{}, NowMs: t0, Master: master,
	}}
	jobs := []JobID{newJob, oldJob, handJob, "foo:0"}
	for _, id := range jobs {
		if id == newJob && f.n(8) == 0 {
			continue // the job was removed
		}
		j := &Job{ID: id, Token: tokens[f.n(4)/3]}
		if f.n(3) == 0 {
			j.Ports = map[string]PortMapping{"p": {InternalPort: 80, ExternalPort: ptr(8080)}}
		}
		s.w.Jobs[id] = j
	}
	var members, removed []string
	nHosts, nRemoved := 1+f.n(4), f.n(3)
	for i := range nHosts + nRemoved {
		name := "h" + string(rune('1'+i))
		if i < nHosts {
			members = append(members, name)
		} else {
			removed = append(removed, name)
		}
		if f.n(10) == 0 {
			continue // not read this round
		}
		h := &HostView{Registered: f.n(8) != 0, Up: f.n(5) != 0, Deployments: map[JobID]Deployment{}, Statuses: map[JobID]TaskStatus{}}
		for _, id := range jobs {
			if f.n(3) == 0 {
				continue
			}
			d := Deployment{JobID: id, Goal: []Goal{GoalStart, GoalStop}[f.n(4)/3], DeploymentGroupName: []string{grp, "", "other"}[f.n(3)]}
			h.Deployments[id] = d
			if f.yes() {
				h.Statuses[id] = fuzzTaskStatus(f)
			}
		}
		s.w.Hosts[name] = h
		s.indexPorts(name)
	}
	up := func(h string) bool { v := s.w.Hosts[h]; return v == nil || v.Up }
	reason := []RollingUpdateReason{ReasonManual, ReasonHostsChanged}[f.n(2)]
	s.w.Status = StartRollout(GroupStatus{Hosts: members, Removed: removed}, newJob, reason, o, up, t0)
	return s
}

func fuzzTaskStatus(f *fuzzBytes) TaskStatus {
	states := []State{StateRunning, StateRunning, StateStarting, StatePullingImage, StateExited, StateFailed}
	throttles := []ThrottleState{ThrottleNo, ThrottleNo, ThrottleImageMissing, ThrottleImagePullFailed, ThrottleFlapping}
	ts := TaskStatus{State: states[f.n(len(states))], Throttled: throttles[f.n(len(throttles))]}
	if f.n(4) == 0 {
		ts.ContainerError = "boom"
	}
	return ts
}

// checkRound asserts what holds of every round, whatever the world.
func checkRound(t *testing.T, w RolloutWorld, before GroupStatus, res StepResult, maxWrites int) {
	t.Helper()
	known := map[GroupState]bool{GroupRollingOut: true, GroupDone: true, GroupFailed: true, GroupPaused: true}
	st := res.Status
	if !known[st.State] {
		t.Fatalf("state %q is not a known word", st.State)
	}
	r, pr := st.Rollout, before.Rollout
	if r == nil {
		t.Fatal("the round lost the rollout")
	}
	if r.TaskIndex < 0 || r.TaskIndex > len(r.Tasks) {
		t.Fatalf("task index %d outside [0, %d]", r.TaskIndex, len(r.Tasks))
	}
	switch {
	case r.RollingBack && !pr.RollingBack: // a failure switched to the rollback plan
		if res.Failure == nil || st.State != GroupFailed {
			t.Fatalf("rolling back without a failure: %+v", res)
		}
	case !r.RollingBack && pr.RollingBack: // the rollback ended
		if !st.RolledBack || r.TaskIndex != len(r.Tasks) {
			t.Fatalf("rollback left at %d of %d, rolled back %v", r.TaskIndex, len(r.Tasks), st.RolledBack)
		}
	default:
		if r.TaskIndex < pr.TaskIndex {
			t.Fatalf("task index went back from %d to %d", pr.TaskIndex, r.TaskIndex)
		}
	}
	if st.State == GroupDone && r.TaskIndex != len(r.Tasks) {
		t.Fatalf("DONE at task %d of %d", r.TaskIndex, len(r.Tasks))
	}
	if (st.State == GroupRollingOut || r.RollingBack) && r.TaskIndex >= len(r.Tasks) {
		t.Fatalf("%s (rolling back %v) with no task left: nobody would finish it", st.State, r.RollingBack)
	}
	if st.State == GroupPaused && r.Tasks[r.TaskIndex].Action != ActionAwaitPromotion {
		t.Fatalf("PAUSED at %v", r.Tasks[r.TaskIndex])
	}
	if st.State == GroupFailed && st.Error == "" {
		t.Fatal("FAILED without an error")
	}
	if res.Ended != "" && res.Ended != st.State {
		t.Fatalf("ended %q but state %q", res.Ended, st.State)
	}
	if res.Failure != nil && (res.Ended != GroupFailed || st.Error != res.Failure.Error()) {
		t.Fatalf("failure %v but ended %q error %q", res.Failure, res.Ended, st.Error)
	}
	targets := map[string]bool{}
	for _, s := range res.Steps {
		targets[s.Target] = true
	}
	seen := map[string]bool{}
	for _, wr := range res.Writes {
		k := wr.Host + "\x00" + string(wr.Job)
		if seen[k] {
			t.Fatalf("two writes of %s on %s: %s", wr.Job, wr.Host, showWrites(res.Writes))
		}
		seen[k] = true
		if w.Hosts[wr.Host] == nil {
			t.Fatalf("write to %s, a host not in the world", wr.Host)
		}
		if !targets[wr.Host] {
			t.Fatalf("write to %s, which no completed step targets (%v)", wr.Host, res.Steps)
		}
		if wr.Deployment != nil && wr.Deployment.JobID != wr.Job {
			t.Fatalf("write of %s carries a deployment of %s", wr.Job, wr.Deployment.JobID)
		}
	}
	if !res.Changed && (len(res.Writes) > 0 || string(mustJSON(t, st)) != string(mustJSON(t, before))) {
		t.Fatalf("unchanged round with writes %v or a new status", res.Writes)
	}
}

// checkRolledBack asserts that a finished rollback took the new job off every host it
// was deployed on, unless it reported why not.
func checkRolledBack(t *testing.T, s *sim) {
	t.Helper()
	r := s.w.Status.Rollout
	for host := range r.Fresh {
		reported := slices.ContainsFunc(s.w.Status.RollbackErrors, func(e string) bool { return strings.HasPrefix(e, host+": ") })
		h := s.w.Hosts[host]
		if reported || h == nil {
			continue
		}
		if d, ok := h.Deployments[r.JobID]; ok && d.DeployerMaster == master && !slices.Contains(r.Previous[host], d) {
			t.Fatalf("rolled back, yet %s still runs the rollout's %s (rollback plan %v)", host, r.JobID, r.Tasks)
		}
	}
}

func FuzzStepRollout(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0, 1, 0, 0, 0, 0, 1, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("auto-rollback and migrate: \x01\x01\x01\x01\x01\x01\x01\x01 with hosts \x03\x02"))
	f.Add([]byte{7, 2, 1, 1, 0, 0, 1, 0, 3, 3, 1, 2, 0, 0, 2, 1, 1, 1, 0, 2, 2, 2, 5, 0, 1, 9, 9, 9, 9})
	// Long random inputs: short ones end in zeros, which switch every option off.
	rng := rand.New(rand.NewSource(1))
	for range 16 {
		seed := make([]byte, 200)
		rng.Read(seed)
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fb := fuzzBytes(data)
		s := fuzzWorld(&fb)
		s.t = t
		for round := 0; round < 12; round++ {
			maxWrites := 1 + fb.n(4)
			before := string(mustJSON(t, s.w))
			prev := s.copyWorld().Status
			res := StepRollout(s.w, maxWrites)
			if string(mustJSON(t, s.w)) != before {
				t.Fatal("StepRollout changed its input world")
			}
			checkRound(t, s.w, prev, res, maxWrites)
			for _, wr := range res.Writes { // commit
				h := s.w.Hosts[wr.Host]
				if wr.Deployment == nil {
					delete(h.Deployments, wr.Job)
					if fb.yes() {
						delete(h.Statuses, wr.Job)
					}
				} else {
					h.Deployments[wr.Job] = *wr.Deployment
				}
				s.indexPorts(wr.Host)
			}
			s.w.Status = res.Status
			if res.Status.RolledBack && !prev.RolledBack {
				checkRolledBack(t, s)
			}
			// The world moves on: time, agents' reports, a user's promote or stop.
			s.w.NowMs += int64(fb.n(4)) * 1000 * int64(1+fb.n(6))
			for _, name := range slices.Sorted(maps.Keys(s.w.Hosts)) {
				if h := s.w.Hosts[name]; fb.n(3) == 0 {
					for _, id := range slices.Sorted(maps.Keys(h.Deployments)) {
						h.Statuses[id] = fuzzTaskStatus(&fb)
					}
				}
			}
			switch fb.n(10) {
			case 0:
				s.w.Status = StopRollout(s.w.Status, s.w.NowMs)
			case 1, 2:
				if p, ok := PromoteRollout(s.w.Status, s.w.NowMs); ok {
					s.w.Status = p
				}
			}
		}
	})
}
