package groups

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/test/harness"
)

func web(n string) map[string]string { return map[string]string{"role": "web", "name": n} }

func TestRollingUpdateMovesEveryMemberToTheNewJob(t *testing.T) {
	f := newFleet(t)
	for _, h := range []string{"web1", "web2", "web10"} {
		f.agent(h, web(h))
	}
	f.agent("db1", map[string]string{"role": "db"})
	f.group("web", "role=web")
	v1 := f.job(model.Job{ID: "svc:1", Image: "busybox"})
	v2 := f.job(model.Job{ID: "svc:2", Image: "busybox"})

	f.roll("web", v1, nil)
	st := f.waitState("web", model.GroupDone, 30*time.Second)
	if len(st.HostStatuses) != 3 {
		t.Fatalf("status lists %d hosts, want the 3 web hosts: %s", len(st.HostStatuses), hostsLine(st))
	}
	for _, hs := range st.HostStatuses {
		if hs.JobID == nil || *hs.JobID != v1 || hs.State == nil || *hs.State != model.StateRunning {
			t.Fatalf("after rolling v1: %s", hostsLine(st))
		}
	}
	if got := f.status("web").HostStatuses[0].Host; got != "web1" {
		t.Errorf("hosts are not in natural order: first is %s", got)
	}

	f.roll("web", v2, &model.RolloutOptions{Parallelism: intp(2)})
	st = f.waitState("web", model.GroupDone, 30*time.Second)
	deps := f.deployments("web1", "web2", "web10", "db1")
	for _, h := range []string{"web1", "web2", "web10"} {
		if !slices.Equal(deps[h], []model.JobID{v2}) {
			t.Errorf("%s has %v, want only %s", h, deps[h], v2)
		}
	}
	if len(deps["db1"]) != 0 {
		t.Errorf("db1 is not in the group but got %v", deps["db1"])
	}
	if st.DeploymentGroup.JobID != v2 || st.DeploymentGroup.RollingUpdateReason != model.ReasonManual {
		t.Errorf("group after the update: %+v", st.DeploymentGroup)
	}
}

func TestWrongTokenFailsTheGroupNamingTheHost(t *testing.T) {
	f := newFleet(t)
	f.agent("web1", web("web1"))
	f.group("web", "role=web")
	id := f.job(model.Job{ID: "secret:1", Image: "busybox", Token: "s3cret"})

	f.roll("web", id, &model.RolloutOptions{Token: strp("wrong")})
	st := f.waitState("web", model.GroupFailed, 30*time.Second)
	if !strings.HasPrefix(st.Error, "web1: TOKEN_VERIFICATION_ERROR") {
		t.Fatalf("error %q, want it to start with web1: TOKEN_VERIFICATION_ERROR", st.Error)
	}
	if deps := f.deployments("web1"); len(deps["web1"]) != 0 {
		t.Fatalf("a refused rollout deployed %v", deps)
	}

	f.roll("web", id, &model.RolloutOptions{Token: strp("s3cret")})
	f.waitState("web", model.GroupDone, 30*time.Second)
}

func TestHostsJoiningAndLeavingTheGroupGetAndLoseItsJob(t *testing.T) {
	f := newFleet(t)
	f.agent("web1", web("web1"))
	f.group("web", "role=web")
	id := f.job(model.Job{ID: "svc:1", Image: "busybox"})
	f.roll("web", id, nil)
	f.waitState("web", model.GroupDone, 30*time.Second)

	f.agent("web2", web("web2"))
	f.waitFor(30*time.Second, "web2 gets the group's job", func() (bool, error) {
		st := f.status("web")
		return st.DeploymentGroup.RollingUpdateReason == model.ReasonHostsChanged && st.Status == model.GroupDone &&
			slices.Equal(f.deployments("web2")["web2"], []model.JobID{id}), nil
	})

	// web2's labels stop matching: the group undeploys its job there, and only there.
	if err := f.st.PutHostLabels(f.ctx, "web2", map[string]string{"role": "retired"}); err != nil {
		t.Fatal(err)
	}
	f.waitFor(30*time.Second, "web2 loses the job", func() (bool, error) {
		st := f.status("web")
		return st.Status == model.GroupDone && len(st.HostStatuses) == 1 && len(f.deployments("web2")["web2"]) == 0, nil
	})
	if got := f.deployments("web1")["web1"]; !slices.Equal(got, []model.JobID{id}) {
		t.Fatalf("web1 has %v, want %s kept", got, id)
	}
}

// failing is a job whose exec health check never passes on the fake runtime.
func failingJob(id string) model.Job {
	return model.Job{ID: model.JobID(id), Image: "busybox", HealthCheck: &model.HealthCheck{Type: "exec", Command: []string{"false"}}}
}

func failExecChecks(hs ...*harness.HollowAgent) {
	for _, h := range hs {
		h.Runtime.SetExec(func(_ string, cmd []string) (int, error) {
			if len(cmd) > 0 && cmd[0] == "false" {
				return 1, nil
			}
			return 0, nil
		})
	}
}

func TestTimeoutFailsAndAutoRollbackRestoresThePreviousJob(t *testing.T) {
	f := newFleet(t)
	var hs []*harness.HollowAgent
	for _, h := range []string{"web1", "web2", "web3"} {
		hs = append(hs, f.agent(h, web(h)))
	}
	failExecChecks(hs...)
	f.group("web", "role=web")
	v1 := f.job(model.Job{ID: "svc:1", Image: "busybox"})
	bad := f.job(failingJob("svc:2"))
	f.roll("web", v1, nil)
	f.waitState("web", model.GroupDone, 30*time.Second)

	f.roll("web", bad, &model.RolloutOptions{Timeout: int64p(1), AutoRollback: boolp(true)})
	st := f.waitState("web", model.GroupFailed, 30*time.Second)
	if !strings.HasPrefix(st.Error, "web1: TIMED_OUT_WAITING_FOR_JOB_TO_REACH_RUNNING: timed out waiting for job "+string(bad)) ||
		!strings.Contains(st.Error, "HEALTHCHECKING") {
		t.Fatalf("error %q: want web1's timeout naming the job and its HEALTHCHECKING state", st.Error)
	}
	if !st.RolledBack || len(st.RollbackErrors) != 0 {
		t.Fatalf("rolledBack %v, problems %v: want a clean rollback", st.RolledBack, st.RollbackErrors)
	}
	deps := f.deployments("web1", "web2", "web3")
	for _, h := range []string{"web1", "web2", "web3"} {
		if !slices.Equal(deps[h], []model.JobID{v1}) {
			t.Errorf("%s has %v after the rollback, want %s", h, deps[h], v1)
		}
	}
}

func TestIgnoreFailuresRollsOnToTheEnd(t *testing.T) {
	f := newFleet(t)
	h1 := f.agent("web1", web("web1"))
	h2 := f.agent("web2", web("web2"))
	failExecChecks(h1, h2)
	f.group("web", "role=web")
	bad := f.job(failingJob("svc:9"))
	f.roll("web", bad, &model.RolloutOptions{Timeout: int64p(1), IgnoreFailures: boolp(true)})
	f.waitState("web", model.GroupDone, 30*time.Second)
	deps := f.deployments("web1", "web2")
	if len(deps["web1"]) != 1 || len(deps["web2"]) != 1 {
		t.Fatalf("with ignoreFailures every host gets the job: %v", deps)
	}
}

func TestCanaryPausesUntilPromoted(t *testing.T) {
	f := newFleet(t)
	for _, h := range []string{"web1", "web2", "web3"} {
		f.agent(h, web(h))
	}
	f.group("web", "role=web")
	id := f.job(model.Job{ID: "svc:1", Image: "busybox"})
	f.roll("web", id, &model.RolloutOptions{Canary: intp(1)})
	f.waitState("web", model.GroupPaused, 30*time.Second)
	deps := f.deployments("web1", "web2", "web3")
	if len(deps["web1"]) != 1 || len(deps["web2"]) != 0 || len(deps["web3"]) != 0 {
		t.Fatalf("paused after the canary: want only web1 deployed, got %v", deps)
	}
	var resp model.RollingUpdateResponse
	if code := f.call("POST", "/deployment-group/web/promote", nil, &resp); code != 200 || resp.Status != model.StatusOK {
		t.Fatalf("promote: %d %+v", code, resp)
	}
	f.waitState("web", model.GroupDone, 30*time.Second)
	if code := f.call("POST", "/deployment-group/web/promote", nil, &resp); code != 409 || resp.Status != model.StatusNotPaused {
		t.Fatalf("promote of a finished group: %d %+v, want 409 NOT_PAUSED", code, resp)
	}
}

func TestStopEndsARolloutAsFailed(t *testing.T) {
	f := newFleet(t)
	h1 := f.agent("web1", web("web1"))
	failExecChecks(h1)
	f.group("web", "role=web")
	bad := f.job(failingJob("svc:3"))
	f.roll("web", bad, nil) // waits on web1's health check (timeout 300 s)
	f.waitFor(30*time.Second, "the rollout to wait on web1", func() (bool, error) {
		st := f.status("web")
		return st.Status == model.GroupRollingOut && len(f.deployments("web1")["web1"]) == 1, nil
	})
	if code := f.call("POST", "/deployment-group/web/stop", nil, nil); code != 204 {
		t.Fatalf("stop: %d, want 204", code)
	}
	st := f.status("web")
	if st.Status != model.GroupFailed || st.Error != model.StoppedByUser {
		t.Fatalf("after stop: %s %q", st.Status, st.Error)
	}
	if code := f.call("POST", "/deployment-group/nosuch/stop", nil, nil); code != 404 {
		t.Fatalf("stop of an unknown group: %d, want 404", code)
	}
}

func TestMigrateTakesOverAManualDeployment(t *testing.T) {
	f := newFleet(t)
	f.agent("web1", web("web1"))
	f.group("web", "role=web")
	id := f.job(model.Job{ID: "svc:1", Image: "busybox"})
	if code := f.call("PUT", "/hosts/web1/jobs/"+string(id), model.Deployment{JobID: id, Goal: model.GoalStart}, nil); code != 200 {
		t.Fatalf("manual deploy: %d", code)
	}
	f.waitFor(30*time.Second, "the manual deployment running", func() (bool, error) {
		ts, err := f.st.TaskStatuses(f.ctx, "web1")
		return ts[id].State == model.StateRunning, err
	})
	containers := f.agents["web1"].Runtime.Counts()

	f.roll("web", id, nil)
	st := f.waitState("web", model.GroupFailed, 30*time.Second)
	if !strings.HasPrefix(st.Error, "web1: JOB_ALREADY_DEPLOYED") {
		t.Fatalf("without migrate: %q, want web1: JOB_ALREADY_DEPLOYED", st.Error)
	}

	f.roll("web", id, &model.RolloutOptions{Migrate: boolp(true)})
	f.waitState("web", model.GroupDone, 30*time.Second)
	d, err := f.st.GetDeployment(f.ctx, "web1", id)
	if err != nil || d.DeploymentGroupName != "web" {
		t.Fatalf("deployment after migrate: %+v %v, want it owned by group web", d, err)
	}
	if after := f.agents["web1"].Runtime.Counts(); after.Creates != containers.Creates {
		t.Fatalf("migrate recreated the container: %d creates before, %d after", containers.Creates, after.Creates)
	}
}

func TestHostRelabelledWhileDownLosesTheJobWhenBack(t *testing.T) {
	f := newFleet(t)
	f.agent("web1", web("web1"))
	f.agent("web2", web("web2"))
	f.group("web", "role=web")
	id := f.job(model.Job{ID: "svc:1", Image: "busybox"})
	f.roll("web", id, nil)
	f.waitState("web", model.GroupDone, 30*time.Second)

	f.agents["web2"].Stop()
	f.waitFor(30*time.Second, "web2 down", func() (bool, error) {
		hs, err := f.st.HostStatus(f.ctx, "web2")
		return err == nil && hs.Status == model.HostDown, err
	})
	f.agent("web2", map[string]string{"role": "retired"}) // comes back with other labels
	f.waitFor(30*time.Second, "web2 loses the group's job", func() (bool, error) {
		return len(f.deployments("web2")["web2"]) == 0 && f.status("web").Status == model.GroupDone, nil
	})
	if got := f.deployments("web1")["web1"]; !slices.Equal(got, []model.JobID{id}) {
		t.Fatalf("web1 has %v, want %s kept", got, id)
	}
}

func TestLabelChangeDuringARolloutIsAppliedWhenItEnds(t *testing.T) {
	f := newFleet(t)
	f.agent("web1", web("web1"))
	f.agent("web2", web("web2"))
	f.group("web", "role=web")
	v1 := f.job(model.Job{ID: "svc:1", Image: "busybox"})
	v2 := f.job(model.Job{ID: "svc:2", Image: "busybox"})
	f.roll("web", v1, nil)
	f.waitState("web", model.GroupDone, 30*time.Second)

	f.roll("web", v2, &model.RolloutOptions{Canary: intp(1)})
	f.waitState("web", model.GroupPaused, 30*time.Second)
	if err := f.st.PutHostLabels(f.ctx, "web2", map[string]string{"role": "retired"}); err != nil {
		t.Fatal(err)
	}
	// The change waits while the rollout is under way: promote it, and once it is done the
	// group lets web2 go.
	if code := f.call("POST", "/deployment-group/web/promote", nil, nil); code != 200 {
		t.Fatalf("promote: %d", code)
	}
	f.waitFor(30*time.Second, "web2 leaves the group and loses its job", func() (bool, error) {
		st := f.status("web")
		return st.Status == model.GroupDone && len(st.HostStatuses) == 1 && len(f.deployments("web2")["web2"]) == 0, nil
	})
	if got := f.deployments("web1")["web1"]; !slices.Equal(got, []model.JobID{v2}) {
		t.Fatalf("web1 has %v, want %s", got, v2)
	}
}
