package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// grantUp marks host UP under a fresh lease and returns the lease.
func grantUp(t *testing.T, cli *clientv3.Client, s *store.Store, host string) clientv3.LeaseID {
	t.Helper()
	ctx := context.Background()
	l, err := cli.Grant(ctx, 30)
	mustNil(t, "grant", err)
	mustNil(t, "put up", s.PutUp(ctx, host, store.LeaseID(l.ID)))
	return l.ID
}

func TestRegisterHostIDRules(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	mustNil(t, "register", s.RegisterHost(ctx, "h1", "id1"))

	before := revision(t, cli)
	mustNil(t, "register same id", s.RegisterHost(ctx, "h1", "id1"))
	if after := revision(t, cli); after != before {
		t.Errorf("re-registering the same id wrote (revision %d -> %d)", before, after)
	}

	job := newJob(t, "web", "")
	mustNil(t, "create", s.CreateJob(ctx, job))
	mustNil(t, "deploy", s.Deploy(ctx, "h1", model.Deployment{JobID: job.ID}, ""))

	lease := grantUp(t, cli, s, "h1")
	before = revision(t, cli)
	err := s.RegisterHost(ctx, "h1", "id2")
	wantErr(t, "register other id while up", err, store.ErrConflict)
	if !strings.Contains(err.Error(), "id1") || !strings.Contains(err.Error(), "id2") {
		t.Errorf("conflict error %q does not name both ids", err)
	}
	if after := revision(t, cli); after != before {
		t.Errorf("refused registration wrote (revision %d -> %d)", before, after)
	}

	_, err = cli.Revoke(ctx, lease) // the host goes DOWN
	mustNil(t, "revoke", err)
	mustNil(t, "register other id while down", s.RegisterHost(ctx, "h1", "id2"))
	id, err := s.HostID(ctx, "h1")
	mustNil(t, "host id", err)
	if id != "id2" {
		t.Errorf("host id %q, want id2", id)
	}
	if _, err := s.GetDeployment(ctx, "h1", job.ID); err != nil {
		t.Errorf("deployment lost by re-registration: %v", err)
	}

	wantErr(t, "register invalid host", s.RegisterHost(ctx, "a/b", "x"), store.ErrInvalidName)
	wantErr(t, "register empty host", s.RegisterHost(ctx, "", "x"), store.ErrInvalidName)
	_, err = s.HostID(ctx, "nope")
	wantErr(t, "id of unknown host", err, store.ErrHostNotFound)
}

func TestListHostsSorted(t *testing.T) {
	s, _, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	for _, h := range []string{"web10", "db", "web1"} {
		mustNil(t, "register", s.RegisterHost(ctx, h, "id-"+h))
	}
	// Observed state alone does not make a host registered.
	mustNil(t, "labels", s.PutHostLabels(ctx, "ghost", map[string]string{"a": "b"}))
	hosts, err := s.ListHosts(ctx)
	mustNil(t, "list", err)
	if want := []string{"db", "web1", "web10"}; !reflect.DeepEqual(hosts, want) {
		t.Errorf("hosts %v, want %v", hosts, want)
	}
}

func TestHostStatusContents(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	job := newJob(t, "web", "")
	mustNil(t, "create", s.CreateJob(ctx, job))
	for _, h := range []string{"web1", "web10"} {
		mustNil(t, "register", s.RegisterHost(ctx, h, "id-"+h))
	}
	mustNil(t, "deploy", s.Deploy(ctx, "web1", model.Deployment{JobID: job.ID, DeployerUser: "alice"}, ""))
	info := model.HostInfo{Hostname: "web1.example", CPUs: 4}
	agent := model.AgentInfo{Name: "web1", Version: "0.1", StartTime: 123}
	mustNil(t, "info", s.PutHostInfo(ctx, "web1", info, agent))
	mustNil(t, "labels", s.PutHostLabels(ctx, "web1", map[string]string{"role": "web"}))
	mustNil(t, "env", s.PutHostEnvironment(ctx, "web1", map[string]string{"DC": "lon"}))
	ts := model.TaskStatus{Goal: model.GoalStart, State: model.StateRunning, ContainerID: "c1"}
	mustNil(t, "task status", s.SetTaskStatus(ctx, "web1", job.ID, ts, false))
	grantUp(t, cli, s, "web1")

	hs, err := s.HostStatus(ctx, "web1")
	mustNil(t, "host status", err)
	if hs.Status != model.HostUp {
		t.Errorf("status %s, want UP", hs.Status)
	}
	if d := hs.Jobs[job.ID]; d.JobID != job.ID || d.Goal != model.GoalStart || d.DeployerUser != "alice" {
		t.Errorf("deployment %+v", d)
	}
	if got := hs.Statuses[job.ID]; got.ContainerID != "c1" || got.State != model.StateRunning {
		t.Errorf("task status %+v", got)
	}
	if hs.HostInfo == nil || *hs.HostInfo != info || hs.AgentInfo == nil || *hs.AgentInfo != agent {
		t.Errorf("info %+v %+v", hs.HostInfo, hs.AgentInfo)
	}
	if hs.Labels["role"] != "web" || hs.Environment["DC"] != "lon" {
		t.Errorf("labels %v env %v", hs.Labels, hs.Environment)
	}

	// web10 shares web1's name prefix and must show none of its state.
	hs10, err := s.HostStatus(ctx, "web10")
	mustNil(t, "host status web10", err)
	if hs10.Status != model.HostDown || len(hs10.Jobs) != 0 || len(hs10.Statuses) != 0 || hs10.HostInfo != nil {
		t.Errorf("web10 status %+v, want DOWN and empty", hs10)
	}
	if hs10.Jobs == nil || hs10.Statuses == nil {
		t.Errorf("empty maps are nil (JSON null): %+v", hs10)
	}

	all, err := s.HostStatuses(ctx, nil)
	mustNil(t, "all statuses", err)
	if len(all) != 2 || all["web1"].Status != model.HostUp || all["web10"].Status != model.HostDown {
		t.Errorf("all statuses %+v", all)
	}
	some, err := s.HostStatuses(ctx, []string{"web10", "unknown"})
	mustNil(t, "some statuses", err)
	if len(some) != 1 || some["web10"].Status != model.HostDown {
		t.Errorf("statuses of web10+unknown: %+v", some)
	}
	_, err = s.HostStatus(ctx, "unknown")
	wantErr(t, "unknown host status", err, store.ErrHostNotFound)
}

func TestDeregisterHostRemovesEverything(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	jobA, jobB := newJob(t, "a", "", 8080), newJob(t, "b", "")
	mustNil(t, "create a", s.CreateJob(ctx, jobA))
	mustNil(t, "create b", s.CreateJob(ctx, jobB))
	for _, h := range []string{"h1", "h10"} {
		mustNil(t, "register", s.RegisterHost(ctx, h, "id-"+h))
		for _, j := range []model.Job{jobA, jobB} {
			mustNil(t, "deploy", s.Deploy(ctx, h, model.Deployment{JobID: j.ID}, ""))
			mustNil(t, "status", s.SetTaskStatus(ctx, h, j.ID, model.TaskStatus{State: model.StateRunning}, true))
		}
		mustNil(t, "labels", s.PutHostLabels(ctx, h, map[string]string{"x": "y"}))
	}
	grantUp(t, cli, s, "h1")

	wantErr(t, "deregister unknown", s.DeregisterHost(ctx, "nope", false), store.ErrHostNotFound)
	// h1 is UP: refused, and nothing is written, unless the caller allows it.
	before := revision(t, cli)
	wantErr(t, "deregister an UP host", s.DeregisterHost(ctx, "h1", false), store.ErrHostUp)
	if after := revision(t, cli); after != before {
		t.Fatalf("a refused deregistration moved the revision from %d to %d", before, after)
	}
	mustNil(t, "deregister", s.DeregisterHost(ctx, "h1", true))

	k := s.Keys()
	for _, p := range []string{k.Host("h1"), k.HostStatus("h1"), k.HostHistory(jobA.ID, "h1"), k.HostHistory(jobB.ID, "h1")} {
		if left := keysUnder(t, cli, p); len(left) != 0 {
			t.Errorf("left under %s: %v", p, left)
		}
	}
	for _, key := range []string{k.JobHost(jobA.ID, "h1"), k.JobHost(jobB.ID, "h1")} {
		if exists(t, cli, key) {
			t.Errorf("left: %s", key)
		}
	}
	// h10 is untouched.
	for _, p := range []string{k.HostID("h10"), k.Deployment("h10", jobA.ID), k.Port("h10", "tcp", 8080),
		k.JobHost(jobA.ID, "h10"), k.TaskStatus("h10", jobB.ID), k.Labels("h10"), k.HostHistory(jobB.ID, "h10")} {
		if !exists(t, cli, p) && len(keysUnder(t, cli, p)) == 0 {
			t.Errorf("deregistering h1 removed %s", p)
		}
	}
	hosts, err := s.ListHosts(ctx)
	mustNil(t, "list", err)
	if !reflect.DeepEqual(hosts, []string{"h10"}) {
		t.Errorf("hosts %v, want [h10]", hosts)
	}
	st, err := s.JobStatus(ctx, jobA.ID)
	mustNil(t, "job status", err)
	if _, ok := st.Deployments["h1"]; ok || len(st.Deployments) != 1 {
		t.Errorf("job status still lists h1: %+v", st.Deployments)
	}
}

// More deployments than one transaction may hold are still all removed.
func TestDeregisterHostManyDeployments(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	mustNil(t, "register", s.RegisterHost(ctx, "h1", "id"))
	for i := range 140 {
		j := newJob(t, "job"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+time.Duration(i).String(), "")
		mustNil(t, "create", s.CreateJob(ctx, j))
		mustNil(t, "deploy", s.Deploy(ctx, "h1", model.Deployment{JobID: j.ID}, ""))
	}
	mustNil(t, "deregister", s.DeregisterHost(ctx, "h1", false))
	if left := keysUnder(t, cli, s.Keys().Root()+"config/job-hosts/"); len(left) != 0 {
		t.Errorf("%d reverse index entries left, e.g. %s", len(left), left[0])
	}
	if left := keysUnder(t, cli, s.Keys().Host("h1")); len(left) != 0 {
		t.Errorf("%d host keys left", len(left))
	}
}
