package agent_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// etcdRequests counts the etcd requests a store made, by store operation, from the
// store's own request-duration histogram (one sample per request).
func etcdRequests(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "helios_store_etcd_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" {
					out[l.GetValue()] += m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return out
}

// readOps are the store operations that are etcd range reads; every other one writes.
var readOps = map[string]bool{
	"get-job": true, "host-deployments": true, "trim-history": true, "task-statuses": true,
	"watch-list": true, "host-id": true, "cluster-uid": true,
}

// TestEtcdRequestsPerDeploymentUntilRunning counts the agent's etcd requests from a
// deployment landing until its task is RUNNING, for jobs without pull or health check
// (fake runtime), and holds them at the figures in docs/benchmarks.md.
func TestEtcdRequestsPerDeploymentUntilRunning(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	// The agent's own store counts; the test reads and deploys through the harness's.
	counted := storetest.OpenEndpoints(t, etcdCli.Endpoints(), store.Config{Prefix: testRoot, Registerer: reg})
	master := h.st
	h.cfg = func(c *agent.Config) {
		c.Store = counted
		c.ResyncInterval = time.Hour // no resync in the count
	}
	h.start()
	h.eventually("first pass over the listed deployments", func() bool {
		return h.metric("helios_agent_reconcile_total", map[string]string{"result": "ok"}) >= 1
	})
	before := etcdRequests(t, reg)

	const n = 10
	ctx := context.Background()
	var ids []model.JobID
	for i := range n {
		j, err := model.WithComputedID(fmt.Sprintf("traffic%d", i), "1", model.Job{Image: "busybox:latest", Command: []string{"sleep", "1000"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := master.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		if err := master.Deploy(ctx, h.name, model.Deployment{JobID: j.ID, Goal: model.GoalStart}, ""); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	for _, id := range ids {
		h.waitState(id, model.StateRunning)
	}
	// Every history event is there, in order.
	for _, id := range ids {
		if got := statesString(h.history(id)); got != "CREATING,STARTING,RUNNING" {
			t.Errorf("history of %s = %s", id.Name(), got)
		}
	}
	after := etcdRequests(t, reg)
	var reads, writes uint64
	var lines []string
	for op, c := range after {
		d := c - before[op]
		if d == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s=%d", op, d))
		if readOps[op] {
			reads += d
		} else {
			writes += d
		}
	}
	sort.Strings(lines)
	t.Logf("etcd requests for %d deployments until RUNNING: %s; per deployment %.1f writes, %.1f reads",
		n, strings.Join(lines, " "), float64(writes)/n, float64(reads)/n)
	if writes > 4*n {
		t.Errorf("%d writes for %d deployments; want at most 4 each", writes, n)
	}
	// The job comes with its deployment, copied under the host's prefix, through the
	// watch: nothing is read on the way to RUNNING.
	if reads != 0 {
		t.Errorf("%d range reads for %d deployments; want none (the job comes with the deployment)", reads, n)
	}
}
