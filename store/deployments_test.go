package store_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

func TestDeployWritesDeploymentIndexAndPorts(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	job := newJob(t, "web", "tok", 8080, 8081)
	mustNil(t, "create", s.CreateJob(ctx, job))
	mustNil(t, "register", s.RegisterHost(ctx, "h1", "id1"))
	mustNil(t, "deploy", s.Deploy(ctx, "h1", model.Deployment{JobID: job.ID, DeployerUser: "bob"}, "tok"))

	d, err := s.GetDeployment(ctx, "h1", job.ID)
	mustNil(t, "get deployment", err)
	if d.Goal != model.GoalStart || d.DeployerUser != "bob" || d.JobID != job.ID {
		t.Errorf("deployment %+v, want goal START by bob", d)
	}
	k := s.Keys()
	for _, key := range []string{k.JobHost(job.ID, "h1"), k.Port("h1", "tcp", 8080), k.Port("h1", "tcp", 8081)} {
		if !exists(t, cli, key) {
			t.Errorf("deploy did not write %s", key)
		}
	}
	if ports := keysUnder(t, cli, k.Ports("h1")); len(ports) != 2 {
		t.Errorf("port reservations %v, want the two static ports only", ports)
	}

	deps, jobs, rev, err := s.HostDeployments(ctx, "h1")
	mustNil(t, "host deployments", err)
	if len(deps) != 1 || deps[job.ID].Goal != model.GoalStart || jobs[job.ID].Image != job.Image || rev < revision(t, cli) {
		t.Errorf("host deployments %v, jobs %v, rev %d", deps, jobs, rev)
	}
}

func TestDeployRefusalsWriteNothing(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	holder := newJob(t, "holder", "", 8080)
	job := newJob(t, "web", "tok", 8080)
	mustNil(t, "create holder", s.CreateJob(ctx, holder))
	mustNil(t, "create", s.CreateJob(ctx, job))
	mustNil(t, "register", s.RegisterHost(ctx, "h1", "id1"))
	mustNil(t, "register", s.RegisterHost(ctx, "h2", "id2"))
	mustNil(t, "deploy holder", s.Deploy(ctx, "h1", model.Deployment{JobID: holder.ID}, ""))
	mustNil(t, "deploy on h2", s.Deploy(ctx, "h2", model.Deployment{JobID: job.ID}, "tok"))

	before := revision(t, cli)
	err := s.Deploy(ctx, "h1", model.Deployment{JobID: job.ID}, "tok")
	wantErr(t, "deploy on taken port", err, store.ErrPortConflict)
	if !strings.Contains(err.Error(), "8080") || !strings.Contains(err.Error(), string(holder.ID)) {
		t.Errorf("port conflict %q does not name the port and its holder", err)
	}
	wantErr(t, "deploy again", s.Deploy(ctx, "h2", model.Deployment{JobID: job.ID}, "tok"), store.ErrAlreadyDeployed)
	wantErr(t, "deploy unknown job", s.Deploy(ctx, "h2", model.Deployment{JobID: newJob(t, "nope", "").ID}, ""), store.ErrJobNotFound)
	wantErr(t, "deploy to unknown host", s.Deploy(ctx, "h3", model.Deployment{JobID: job.ID}, "tok"), store.ErrHostNotFound)
	wantErr(t, "deploy with wrong token", s.Deploy(ctx, "h3", model.Deployment{JobID: job.ID}, "bad"), store.ErrForbidden)
	wantErr(t, "deploy to bad host name", s.Deploy(ctx, "a/b", model.Deployment{JobID: job.ID}, "tok"), store.ErrInvalidName)
	wantErr(t, "deploy bad job id", s.Deploy(ctx, "h1", model.Deployment{JobID: "x/y"}, ""), store.ErrInvalidName)
	if after := revision(t, cli); after != before {
		t.Errorf("refused deploys moved the revision from %d to %d", before, after)
	}
	if exists(t, cli, s.Keys().Deployment("h1", job.ID)) || exists(t, cli, s.Keys().JobHost(job.ID, "h1")) {
		t.Errorf("refused deploy left keys")
	}

	// Once the holder is gone, the port is free.
	mustNil(t, "undeploy holder", s.Undeploy(ctx, "h1", holder.ID, ""))
	mustNil(t, "deploy after port freed", s.Deploy(ctx, "h1", model.Deployment{JobID: job.ID}, "tok"))
}

func TestUndeployAndSetGoal(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	job := newJob(t, "web", "tok", 8080)
	other := newJob(t, "other", "", 9090)
	mustNil(t, "create", s.CreateJob(ctx, job))
	mustNil(t, "create other", s.CreateJob(ctx, other))
	mustNil(t, "register", s.RegisterHost(ctx, "h1", "id1"))
	mustNil(t, "deploy", s.Deploy(ctx, "h1", model.Deployment{JobID: job.ID}, "tok"))
	mustNil(t, "deploy other", s.Deploy(ctx, "h1", model.Deployment{JobID: other.ID}, ""))

	before := revision(t, cli)
	wantErr(t, "set goal wrong token", s.SetGoal(ctx, "h1", job.ID, model.GoalStop, "bad"), store.ErrForbidden)
	wantErr(t, "set goal unknown host", s.SetGoal(ctx, "h9", job.ID, model.GoalStop, "tok"), store.ErrHostNotFound)
	wantErr(t, "set goal unknown job", s.SetGoal(ctx, "h1", newJob(t, "nope", "").ID, model.GoalStop, ""), store.ErrJobNotFound)
	wantErr(t, "set bad goal", s.SetGoal(ctx, "h1", job.ID, "FLY", "tok"), store.ErrInvalidGoal)
	wantErr(t, "undeploy wrong token", s.Undeploy(ctx, "h1", job.ID, "bad"), store.ErrForbidden)
	wantErr(t, "undeploy unknown host", s.Undeploy(ctx, "h9", job.ID, "tok"), store.ErrHostNotFound)
	wantErr(t, "undeploy unknown job", s.Undeploy(ctx, "h1", newJob(t, "nope", "").ID, ""), store.ErrJobNotFound)
	wantErr(t, "undeploy bad host name", s.Undeploy(ctx, "", job.ID, "tok"), store.ErrInvalidName)
	if after := revision(t, cli); after != before {
		t.Errorf("refused requests moved the revision from %d to %d", before, after)
	}

	mustNil(t, "set goal", s.SetGoal(ctx, "h1", job.ID, "stop", "tok"))
	d, err := s.GetDeployment(ctx, "h1", job.ID)
	mustNil(t, "get", err)
	if d.Goal != model.GoalStop {
		t.Errorf("goal %s, want STOP", d.Goal)
	}

	mustNil(t, "undeploy", s.Undeploy(ctx, "h1", job.ID, "tok"))
	_, err = s.GetDeployment(ctx, "h1", job.ID)
	wantErr(t, "get undeployed", err, store.ErrNotDeployed)
	k := s.Keys()
	if exists(t, cli, k.JobHost(job.ID, "h1")) || exists(t, cli, k.Port("h1", "tcp", 8080)) {
		t.Errorf("undeploy left the index entry or the port reservation")
	}
	if !exists(t, cli, k.Port("h1", "tcp", 9090)) || !exists(t, cli, k.Deployment("h1", other.ID)) {
		t.Errorf("undeploy removed another job's keys")
	}

	before = revision(t, cli)
	wantErr(t, "undeploy twice", s.Undeploy(ctx, "h1", job.ID, "tok"), store.ErrNotDeployed)
	wantErr(t, "set goal undeployed", s.SetGoal(ctx, "h1", job.ID, model.GoalStart, "tok"), store.ErrNotDeployed)
	if after := revision(t, cli); after != before {
		t.Errorf("refused requests moved the revision from %d to %d", before, after)
	}
}

func TestJobStatus(t *testing.T) {
	s, _, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	job := newJob(t, "web", "")
	mustNil(t, "create", s.CreateJob(ctx, job))
	for _, h := range []string{"h1", "h2", "h3"} {
		mustNil(t, "register", s.RegisterHost(ctx, h, "id"))
	}
	mustNil(t, "deploy h1", s.Deploy(ctx, "h1", model.Deployment{JobID: job.ID}, ""))
	mustNil(t, "deploy h2", s.Deploy(ctx, "h2", model.Deployment{JobID: job.ID, Goal: model.GoalStop}, ""))
	mustNil(t, "status h1", s.SetTaskStatus(ctx, "h1", job.ID, model.TaskStatus{State: model.StateRunning, ContainerID: "c1"}, true))

	st, err := s.JobStatus(ctx, job.ID)
	mustNil(t, "job status", err)
	if st.Job == nil || st.Job.ID != job.ID {
		t.Errorf("job %+v", st.Job)
	}
	goals := map[string]model.Goal{}
	for h, d := range st.Deployments {
		goals[h] = d.Goal
	}
	if want := map[string]model.Goal{"h1": model.GoalStart, "h2": model.GoalStop}; !reflect.DeepEqual(goals, want) {
		t.Errorf("deployments %v, want %v", goals, want)
	}
	if len(st.TaskStatuses) != 1 || st.TaskStatuses["h1"].ContainerID != "c1" {
		t.Errorf("task statuses %+v, want h1's only", st.TaskStatuses)
	}
	_, err = s.JobStatus(ctx, newJob(t, "nope", "").ID)
	wantErr(t, "status of unknown job", err, store.ErrJobNotFound)
}

// Two jobs racing for one static port on one host: exactly one gets it.
func TestConcurrentDeploysOnePortOneWinner(t *testing.T) {
	s, _, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	mustNil(t, "register", s.RegisterHost(ctx, "h1", "id1"))
	var jobs []model.Job
	for _, name := range []string{"a", "b", "c", "d"} {
		j := newJob(t, name, "", 7000)
		mustNil(t, "create", s.CreateJob(ctx, j))
		jobs = append(jobs, j)
	}
	errs := make(chan error, len(jobs))
	for _, j := range jobs {
		go func() { errs <- s.Deploy(ctx, "h1", model.Deployment{JobID: j.ID}, "") }()
	}
	won, lost := 0, 0
	for range jobs {
		switch err := <-errs; {
		case err == nil:
			won++
		case errors.Is(err, store.ErrPortConflict):
			lost++
		default:
			t.Errorf("deploy: %v", err)
		}
	}
	if won != 1 || lost != len(jobs)-1 {
		t.Errorf("%d deploys won port 7000, %d refused; want 1 and %d", won, lost, len(jobs)-1)
	}
	hs, err := s.HostStatus(ctx, "h1")
	mustNil(t, "host status", err)
	if len(hs.Jobs) != 1 {
		t.Errorf("%d deployments on h1, want 1", len(hs.Jobs))
	}
}
