package groups

import (
	"slices"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
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
