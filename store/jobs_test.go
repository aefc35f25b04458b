package store_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

func TestCreateGetListJobs(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	job := newJob(t, "web", "", 8080)
	mustNil(t, "create", s.CreateJob(ctx, job))

	got, err := s.GetJob(ctx, job.ID)
	mustNil(t, "get", err)
	if got.ID != job.ID || got.Image != job.Image || *got.Ports["a"].ExternalPort != 8080 {
		t.Errorf("got job %+v, want %+v", got, job)
	}
	jobs, err := s.ListJobs(ctx)
	mustNil(t, "list", err)
	if len(jobs) != 1 || jobs[job.ID].Image != job.Image {
		t.Errorf("listed %v, want only %s", jobs, job.ID)
	}
	// The value is plain JSON of the model type, for etcdctl readers.
	resp, err := cli.Get(ctx, s.Keys().Job(job.ID))
	mustNil(t, "raw get", err)
	if !strings.Contains(string(resp.Kvs[0].Value), `"image":"busybox:latest"`) {
		t.Errorf("stored value %s is not the job's JSON", resp.Kvs[0].Value)
	}

	_, err = s.GetJob(ctx, newJob(t, "other", "").ID)
	wantErr(t, "get missing job", err, store.ErrJobNotFound)
}

func TestCreateJobRefusals(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	job := newJob(t, "web", "")
	mustNil(t, "create", s.CreateJob(ctx, job))

	before := revision(t, cli)
	changed := job
	changed.Image = "other"
	wantErr(t, "create twice", s.CreateJob(ctx, changed), store.ErrExists)
	wantErr(t, "partial id", s.CreateJob(ctx, model.Job{ID: "web:1", Image: "x"}), store.ErrInvalidName)
	wantErr(t, "id with slash", s.CreateJob(ctx, model.Job{ID: model.JobID("a/b:1:" + strings.Repeat("0", 40)), Image: "x"}), store.ErrInvalidName)
	if after := revision(t, cli); after != before {
		t.Errorf("refused creates moved the revision from %d to %d", before, after)
	}
	got, err := s.GetJob(ctx, job.ID)
	mustNil(t, "get", err)
	if got.Image != job.Image {
		t.Errorf("job overwritten: image %q", got.Image)
	}
}

func TestConcurrentCreateOneWins(t *testing.T) {
	s, _, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	job := newJob(t, "web", "")
	var (
		wg              sync.WaitGroup
		mu              sync.Mutex
		ok, exists, bad int
	)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.CreateJob(ctx, job)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrExists):
				exists++
			default:
				bad++
				t.Errorf("create: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || exists != 19 || bad != 0 {
		t.Errorf("%d created, %d ErrExists, %d other; want 1, 19, 0", ok, exists, bad)
	}
}

func TestRemoveJob(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	job := newJob(t, "web", "secret")
	mustNil(t, "create", s.CreateJob(ctx, job))
	mustNil(t, "register", s.RegisterHost(ctx, "h1", "id1"))
	mustNil(t, "deploy", s.Deploy(ctx, "h1", model.Deployment{JobID: job.ID}, "secret"))
	mustNil(t, "status", s.SetTaskStatus(ctx, "h1", job.ID, model.TaskStatus{State: model.StateRunning}, true))

	before := revision(t, cli)
	wantErr(t, "remove with wrong token", s.RemoveJob(ctx, job.ID, "wrong"), store.ErrForbidden)
	err := s.RemoveJob(ctx, job.ID, "secret")
	wantErr(t, "remove deployed job", err, store.ErrStillInUse)
	if !strings.Contains(err.Error(), "h1") {
		t.Errorf("still-in-use error %q does not name the host", err)
	}
	wantErr(t, "remove missing job", s.RemoveJob(ctx, newJob(t, "nope", "").ID, ""), store.ErrJobNotFound)
	wantErr(t, "remove invalid id", s.RemoveJob(ctx, "a/b", ""), store.ErrInvalidName)
	if after := revision(t, cli); after != before {
		t.Errorf("refused removals moved the revision from %d to %d", before, after)
	}

	mustNil(t, "undeploy", s.Undeploy(ctx, "h1", job.ID, "secret"))
	mustNil(t, "remove", s.RemoveJob(ctx, job.ID, "secret"))
	_, err = s.GetJob(ctx, job.ID)
	wantErr(t, "get removed job", err, store.ErrJobNotFound)
	if keys := append(keysUnder(t, cli, s.Keys().HostHistory(job.ID, "h1")), keysUnder(t, cli, s.Keys().LegacyHistory(job.ID))...); len(keys) != 0 {
		t.Errorf("history left after removal: %v", keys)
	}
	wantErr(t, "remove twice", s.RemoveJob(ctx, job.ID, "secret"), store.ErrJobNotFound)
}
