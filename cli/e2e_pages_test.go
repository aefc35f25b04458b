package cli_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

// requests counts the requests the verbose log shows for method and path (any query).
func requests(stderr, method, path string) []string {
	re := regexp.MustCompile(`(?m)^` + method + ` http://[^/ ]+` + regexp.QuoteMeta(path) + `(\?[^ ]*)? -> `)
	return re.FindAllString(stderr, -1)
}

// With a small page size the CLI asks for jobs and hosts a page at a time, splits its bulk
// status requests, and still shows every job, host and deployment.
func TestCommandsFollowPages(t *testing.T) {
	x := newH(t)
	x.env["HELIOS_CLI_PAGE_SIZE"] = "2"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, h := range []string{"h1", "h2", "h3"} {
		if err := x.m.Store.RegisterHost(ctx, h, "id-"+h); err != nil {
			t.Fatal(err)
		}
	}
	var ids []model.JobID
	for i := range 5 {
		job, err := model.WithComputedID(fmt.Sprintf("paged%d", i), "1", model.Job{Image: "busybox:latest", Command: []string{"sleep", "1"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := x.m.Store.CreateJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		if err := x.m.Store.Deploy(ctx, fmt.Sprintf("h%d", i%3+1), model.Deployment{JobID: job.ID}, ""); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, job.ID)
	}

	r := x.ok("-v", "jobs", "-q")
	if got := strings.Fields(r.out); len(got) != 5 {
		t.Fatalf("jobs -q listed %v, want the 5 jobs", got)
	}
	if got := requests(r.err, "GET", "/jobs"); len(got) != 3 || !strings.Contains(got[0], "limit=2") || !strings.Contains(got[2], "continue=") {
		t.Fatalf("GET /jobs requests %q, want 3 pages of 2\nstderr:\n%s", got, r.err)
	}
	if got := requests(r.err, "POST", "/jobs/statuses"); len(got) != 3 {
		t.Fatalf("POST /jobs/statuses requests %q, want 3 of at most 2 ids", got)
	}

	r = x.ok("-v", "jobs", "-y")
	for _, id := range ids {
		if !strings.Contains(r.out, string(id)[:len(id.Name())+2+7]) {
			t.Errorf("jobs -y does not show %s:\n%s", id, r.out)
		}
	}

	r = x.ok("status")
	for i, id := range ids {
		if !regexp.MustCompile(regexp.QuoteMeta(id.Name()) + `:1:\S+\s+h` + fmt.Sprint(i%3+1) + `\.?\S*\s+START`).MatchString(r.out) {
			t.Errorf("status has no START row of %s on h%d:\n%s", id, i%3+1, r.out)
		}
	}

	r = x.ok("-v", "hosts", "-q")
	if got := strings.Fields(r.out); strings.Join(got, " ") != "h1 h2 h3" {
		t.Fatalf("hosts -q listed %v", got)
	}
	if got := requests(r.err, "GET", "/hosts"); len(got) != 2 {
		t.Fatalf("GET /hosts requests %q, want 2 pages", got)
	}
	x.env["HELIOS_CLI_PAGE_SIZE"] = "0"
	r = x.run("jobs")
	if r.code == 0 || !strings.Contains(r.err, "HELIOS_CLI_PAGE_SIZE") {
		t.Fatalf("bad page size: exit %d, stderr %q", r.code, r.err)
	}
}

// The tables ask for statuses without their jobs (`jobs` without the task statuses too);
// `status --json` still shows each task status with its job, as the master holds it, and
// the job beside them.
func TestStatusJSONKeepsTheTaskStatusesJobs(t *testing.T) {
	x := newH(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := x.m.Store.RegisterHost(ctx, "h1", "id-h1"); err != nil {
		t.Fatal(err)
	}
	job, err := model.WithComputedID("withjob", "1", model.Job{Image: "busybox:latest", Env: map[string]string{"K": "V"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.m.Store.CreateJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := x.m.Store.Deploy(ctx, "h1", model.Deployment{JobID: job.ID}, ""); err != nil {
		t.Fatal(err)
	}
	if err := x.m.Store.SetTaskStatus(ctx, "h1", job.ID, model.TaskStatus{Job: &job, Goal: model.GoalStart, State: model.StateRunning, ContainerID: "c1"}, false); err != nil {
		t.Fatal(err)
	}
	r := x.ok("-v", "status")
	if got := requests(r.err, "POST", "/jobs/statuses"); len(got) != 1 || !strings.Contains(got[0], "omitJobs=true") {
		t.Fatalf("status asked for statuses with %q, want one request with omitJobs=true", got)
	}
	if !strings.Contains(norm(r.out), job.ID.Short()+" h1 START RUNNING c1") {
		t.Fatalf("status table:\n%s", r.out)
	}
	r = x.ok("-v", "jobs")
	if got := requests(r.err, "POST", "/jobs/statuses"); len(got) != 1 || !strings.Contains(got[0], "omitJobs=true&omitTaskStatuses=true") {
		t.Fatalf("jobs asked for statuses with %q, want one request without jobs and task statuses", got)
	}
	if !strings.Contains(norm(r.out), job.ID.Short()+" withjob 1 1 ") {
		t.Fatalf("jobs table, want 1 host:\n%s", r.out)
	}
	r = x.ok("-v", "status", "--json")
	if got := requests(r.err, "POST", "/jobs/statuses"); len(got) != 1 || strings.Contains(got[0], "omitJobs") {
		t.Fatalf("status --json asked for statuses with %q, want one request with the jobs", got)
	}
	var st map[model.JobID]model.JobStatus
	decode(t, r.out, &st)
	ts := st[job.ID].TaskStatuses["h1"]
	if st[job.ID].Job == nil || st[job.ID].Job.ID != job.ID || ts.Job == nil || ts.Job.ID != job.ID || ts.Job.Env["K"] != "V" {
		t.Fatalf("status --json: %s", r.out)
	}
}
