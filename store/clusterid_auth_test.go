package store_test

import (
	"testing"

	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// An agent's etcd user may read the cluster id and uid but not write them: once the
// masters have written them, the agent's checks read and make no refused write (etcd's
// client logs every refusal as a warning, at every agent start).
func TestAgentChecksClusterIDsWithoutARefusedWrite(t *testing.T) {
	c := newAuthCluster(t)
	ctx := testCtx(t)
	mustNil(t, "master claims the cluster id", c.master.EnsureClusterID(ctx, "prod"))
	uid, err := c.master.EnsureClusterUID(ctx, "uid1")
	mustNil(t, "master creates the cluster uid", err)

	reg := prometheus.NewRegistry()
	agent := storetest.OpenAs(t, c.e, store.AgentUser("a"), "a-pw", store.Config{Registerer: reg})
	mustNil(t, "agent checks the cluster id", agent.EnsureClusterID(ctx, "prod"))
	got, err := agent.EnsureClusterUID(ctx, "proposed-by-a")
	if err != nil || got != uid {
		t.Fatalf("agent reads cluster uid %q, %v; want %q", got, err, uid)
	}
	for _, op := range []string{"cluster-id", "cluster-uid"} {
		if n := etcdErrors(t, reg, op); n != 0 {
			t.Errorf("%s: %v etcd errors, want 0 (a write the agent's user may not make)", op, n)
		}
	}
}
