package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"go.uber.org/zap"
)

// authCluster is an embedded etcd with authentication turned on by the etcd-auth store
// functions, and a store per user.
type authCluster struct {
	e                                    *store.Embedded
	root, master, reader, agentA, agentB *store.Store
}

func newAuthCluster(t *testing.T) *authCluster {
	t.Helper()
	ctx := testCtx(t)
	_, e := storetest.NewEtcd(t)
	admin := storetest.Open(t, e, store.Config{})
	pw := store.AuthPasswords{Root: "root-pw", Master: "master-pw", Reader: "reader-pw"}
	mustNil(t, "init auth", admin.InitAuth(ctx, pw, ""))
	_, err := admin.ListJobs(ctx)
	denied(t, "list jobs without credentials once auth is on", err)
	c := &authCluster{e: e}
	c.root = storetest.OpenAs(t, e, store.RootUser, pw.Root, store.Config{})
	if on, err := c.root.AuthEnabled(ctx); err != nil || !on {
		t.Fatalf("auth enabled = %v, %v; want true", on, err)
	}
	mustNil(t, "add agent a", c.root.AddAgentUser(ctx, "a", "a-pw", ""))
	mustNil(t, "add agent b", c.root.AddAgentUser(ctx, "b", "b-pw", ""))
	c.master = storetest.OpenAs(t, e, store.MasterUser, pw.Master, store.Config{})
	c.reader = storetest.OpenAs(t, e, store.ReaderUser, pw.Reader, store.Config{})
	c.agentA = storetest.OpenAs(t, e, store.AgentUser("a"), "a-pw", store.Config{HistoryLimit: 2})
	c.agentB = storetest.OpenAs(t, e, store.AgentUser("b"), "b-pw", store.Config{})
	return c
}

func denied(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrPermissionDenied) {
		t.Errorf("%s: error %v, want permission denied", what, err)
	}
}

// Agent A's etcd user runs A's whole lifecycle; it can neither write B's deployments,
// statuses, history or up key, nor read the jobs (their env and tokens) or B's keys. The
// reader reads and cannot write; the master does both.
func TestEtcdAuthRolesConfineEachAgentToItsHost(t *testing.T) {
	c := newAuthCluster(t)
	ctx := testCtx(t)

	// Before the leader created the cluster uid, an agent cannot and waits (as for an outage).
	_, err := c.agentA.EnsureClusterUID(ctx, "proposed-by-a")
	wantErr(t, "agent creates the cluster uid", err, store.ErrUnavailable)
	uid, err := c.master.EnsureClusterUID(ctx, "uid1")
	mustNil(t, "master creates the cluster uid", err)
	got, err := c.agentA.EnsureClusterUID(ctx, "proposed-by-a")
	if err != nil || got != uid {
		t.Fatalf("agent reads cluster uid %q, %v; want %q", got, err, uid)
	}
	mustNil(t, "master claims the cluster id", c.master.EnsureClusterID(ctx, "prod"))
	mustNil(t, "agent checks the cluster id", c.agentA.EnsureClusterID(ctx, "prod"))
	wantErr(t, "agent of another cluster", c.agentA.EnsureClusterID(ctx, "test"), store.ErrConflict)

	// Registration, up (leased), info, labels, environment.
	for _, ag := range []struct {
		st   *store.Store
		host string
	}{{c.agentA, "a"}, {c.agentB, "b"}} {
		mustNil(t, "register "+ag.host, ag.st.RegisterHost(ctx, ag.host, "id-"+ag.host))
		id, err := ag.st.HostID(ctx, ag.host)
		if err != nil || id != "id-"+ag.host {
			t.Fatalf("host id of %s: %q, %v", ag.host, id, err)
		}
		mustNil(t, "info", ag.st.PutHostInfo(ctx, ag.host, model.HostInfo{Hostname: ag.host}, model.AgentInfo{}))
		mustNil(t, "labels", ag.st.PutHostLabels(ctx, ag.host, map[string]string{"role": "web"}))
		mustNil(t, "environment", ag.st.PutHostEnvironment(ctx, ag.host, map[string]string{"E": "1"}))
	}
	upA := make(chan struct{})
	lctx, stopLease := context.WithCancel(ctx)
	leaseDone := make(chan error, 1)
	go func() {
		leaseDone <- c.agentA.KeepLeased(lctx, 5*time.Second, zap.NewNop(), func(ctx context.Context, l store.LeaseID) error {
			if err := c.agentA.PutUp(ctx, "a", l); err != nil {
				return err
			}
			close(upA)
			denied(t, "agent a puts b's up key", c.agentA.PutUp(ctx, "b", l))
			return nil
		})
	}()
	select {
	case <-upA:
	case <-time.After(20 * time.Second):
		t.Fatal("agent a never put its up key")
	}

	// The master creates and deploys jobs on both hosts; agent A sees its own deployment.
	job := newJob(t, "web", "secret")
	mustNil(t, "create job", c.master.CreateJob(ctx, job))
	mustNil(t, "deploy on a", c.master.Deploy(ctx, "a", model.Deployment{JobID: job.ID, Goal: model.GoalStart}, "secret"))
	mustNil(t, "deploy on b", c.master.Deploy(ctx, "b", model.Deployment{JobID: job.ID, Goal: model.GoalStart}, "secret"))
	deps, jobs, _, err := c.agentA.HostDeployments(ctx, "a")
	mustNil(t, "agent a reads its deployments", err)
	if _, ok := deps[job.ID]; !ok || jobs[job.ID].ID != job.ID {
		t.Errorf("agent a's deployments %v, jobs %v: want %s with its job copy", deps, jobs, job.ID)
	}
	watched := make(chan int, 1)
	wctx, stopWatch := context.WithCancel(ctx)
	go func() {
		_ = c.agentA.WatchPrefix(wctx, c.agentA.Keys().Host("a"), func(kvs []store.KV, _ int64) {
			select {
			case watched <- len(kvs):
			default:
			}
		}, func([]store.Event) {})
	}()
	select {
	case n := <-watched:
		if n == 0 {
			t.Error("agent a's watch of its own prefix listed nothing")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("agent a's watch of its own prefix never listed")
	}
	stopWatch()

	// Statuses and history, with a trim and a replay.
	now := time.Now()
	sts := []store.StatusAt{
		{Status: model.TaskStatus{State: model.StateCreating}, At: now},
		{Status: model.TaskStatus{State: model.StateStarting}, At: now.Add(time.Millisecond)},
		{Status: model.TaskStatus{State: model.StateRunning, ContainerID: "c1"}, At: now.Add(2 * time.Millisecond)},
	}
	mustNil(t, "statuses", c.agentA.SetTaskStatuses(ctx, "a", job.ID, sts))
	mustNil(t, "replay", c.agentA.SetTaskStatusesOnce(ctx, "a", job.ID, sts))
	mustNil(t, "trim", c.agentA.TrimTaskHistory(ctx, "a", job.ID))
	own, err := c.agentA.TaskStatuses(ctx, "a")
	if err != nil || own[job.ID].ContainerID != "c1" {
		t.Errorf("agent a reads its statuses %v, %v", own, err)
	}
	hist, err := c.master.History(ctx, job.ID)
	if err != nil || len(hist) != 2 || hist[1].Status.ContainerID != "c1" {
		t.Errorf("history after trim to 2: %v, %v", hist, err)
	}

	// Everything of B, and the jobs, are out of A's reach; nothing is written.
	before, err := c.root.HostStatus(ctx, "b")
	mustNil(t, "b's status", err)
	denied(t, "a deploys on b", c.agentA.Deploy(ctx, "b", model.Deployment{JobID: newJob(t, "x", "").ID}, ""))
	denied(t, "a undeploys from b", c.agentA.Undeploy(ctx, "b", job.ID, "secret"))
	denied(t, "a writes b's statuses and history", c.agentA.SetTaskStatuses(ctx, "b", job.ID, sts))
	denied(t, "a deletes b's status", c.agentA.DeleteTaskStatus(ctx, "b", job.ID))
	denied(t, "a trims b's history", c.agentA.TrimTaskHistory(ctx, "b", job.ID))
	denied(t, "a writes b's labels", c.agentA.PutHostLabels(ctx, "b", map[string]string{"role": "evil"}))
	denied(t, "a re-registers b", c.agentA.RegisterHost(ctx, "b", "stolen"))
	denied(t, "a deregisters b", c.agentA.DeregisterHost(ctx, "b", true))
	_, _, _, err = c.agentA.HostDeployments(ctx, "b")
	denied(t, "a reads b's deployments", err)
	_, err = c.agentA.TaskStatuses(ctx, "b")
	denied(t, "a reads b's statuses", err)
	_, err = c.agentA.GetJob(ctx, job.ID)
	denied(t, "a reads a job", err)
	_, err = c.agentA.ListJobs(ctx)
	denied(t, "a lists jobs", err)
	_, err = c.agentA.History(ctx, job.ID)
	denied(t, "a reads a job's history on every host", err)
	after, err := c.root.HostStatus(ctx, "b")
	mustNil(t, "b's status", err)
	if len(after.Jobs) != len(before.Jobs) || after.Labels["role"] != "web" || after.Statuses[job.ID].State != before.Statuses[job.ID].State {
		t.Errorf("b changed: before %+v, after %+v", before, after)
	}

	// The reader reads everything and writes nothing.
	if _, err := c.reader.ListJobs(ctx); err != nil {
		t.Errorf("reader lists jobs: %v", err)
	}
	if _, err := c.reader.History(ctx, job.ID); err != nil {
		t.Errorf("reader reads history: %v", err)
	}
	denied(t, "reader creates a job", c.reader.CreateJob(ctx, newJob(t, "r", "")))
	denied(t, "reader undeploys", c.reader.Undeploy(ctx, "a", job.ID, "secret"))

	// A's lease ends with A's up key (revoking needs write access to the keys on the lease).
	stopLease()
	<-leaseDone
	if st, err := c.master.HostStatus(ctx, "a"); err != nil || st.Status != model.HostDown {
		t.Errorf("a after revoking its lease: %+v, %v; want DOWN", st, err)
	}

	// The master's own lifecycle: undeploy, remove, deregister, leadership and migration.
	mustNil(t, "undeploy a", c.master.Undeploy(ctx, "a", job.ID, "secret"))
	l, err := c.master.Campaign(ctx, "m1", 5*time.Second)
	mustNil(t, "campaign", err)
	_, err = c.master.MigrateHistory(ctx, l)
	mustNil(t, "migrate", err)
	// An agent withdrawing endpoints asks who leads before it waits for its DNS records.
	if leader, err := c.agentA.Leader(ctx); err != nil || leader != "m1" {
		t.Errorf("agent a reads the leader: %q, %v; want m1", leader, err)
	}
	mustNil(t, "deregister a", c.master.DeregisterHost(ctx, "a", false))
}

// Removing an agent's user ends its access; an agent's password can be changed.
func TestEtcdAuthRemoveAndRotate(t *testing.T) {
	c := newAuthCluster(t)
	ctx := testCtx(t)
	mustNil(t, "rotate", c.root.ChangePassword(ctx, store.AgentUser("b"), "b-pw2"))
	if _, err := store.Open(ctx, store.ConnectConfig{Endpoints: c.e.Endpoints(), Username: store.AgentUser("b"), Password: "b-pw"}, store.Config{}); err == nil {
		t.Error("old password of b still logs in")
	}
	b2 := storetest.OpenAs(t, c.e, store.AgentUser("b"), "b-pw2", store.Config{})
	mustNil(t, "b with its new password", b2.RegisterHost(ctx, "b", "id-b"))

	// Re-applying a role with another SkyDNS path revokes the old range.
	mustNil(t, "b with another skydns path", c.root.AddAgentUser(ctx, "b", "b-pw2", "/dns"))
	list, err := c.root.ListAuth(ctx)
	mustNil(t, "list", err)
	for _, u := range list {
		if u.Name != store.AgentUser("b") {
			continue
		}
		var keys []string
		for _, g := range u.Grants {
			keys = append(keys, g.Key)
		}
		joined := strings.Join(keys, " ")
		if !strings.Contains(joined, "/dns/") || strings.Contains(joined, "/skydns/") || len(keys) != len(c.root.Keys().AgentRole("b", "/dns").Grants) {
			t.Errorf("b's ranges after re-applying with /dns: %v", keys)
		}
	}

	mustNil(t, "remove a", c.root.RemoveUser(ctx, store.AgentUser("a")))
	wantErr(t, "remove a twice", c.root.RemoveUser(ctx, store.AgentUser("a")), store.ErrNotFound)
	users, err := c.root.ListAuth(ctx)
	mustNil(t, "list", err)
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
	}
	want := []string{store.AgentUser("b"), store.MasterUser, store.ReaderUser, store.RootUser}
	if len(names) != len(want) {
		t.Fatalf("users %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("users %v, want %v", names, want)
		}
	}
	denied(t, "a after removal", c.agentA.RegisterHost(ctx, "a", "id-a"))
}
