package agent_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
)

// A job that the master would refuse, written to etcd directly (an older master, a hand
// edit), is refused again by the agent before anything runs: no container is created, and
// the task is FAILED with the rule it breaks. The agent's own state dir is denied too.
func TestAgentRefusesJobsItsPolicyDenies(t *testing.T) {
	h := newHarness(t)
	h.start()
	etc := h.createJob("mounts-etc", func(j *model.Job) { j.Volumes = map[string]string{"/host-etc": "/etc"} })
	state := h.createJob("mounts-state", func(j *model.Job) {
		j.Volumes = map[string]string{"/s": filepath.Join(h.dir, "sub")}
	})
	unconfined := h.createJob("unconfined", func(j *model.Job) { j.SecurityOpt = []string{"seccomp:unconfined"} })
	fine := h.createJob("fine", func(j *model.Job) { j.Volumes = map[string]string{"/data": t.TempDir()} })
	for _, id := range []model.JobID{etc, state, unconfined, fine} {
		h.deploy(id, model.GoalStart)
	}
	h.waitState(fine, model.StateRunning)
	for id, want := range map[model.JobID]string{etc: "host path /etc is /etc", state: "host path " + filepath.Join(h.dir, "sub"), unconfined: "switches a protection off"} {
		st := h.waitState(id, model.StateFailed)
		if !strings.Contains(st.ContainerError, "refused by this host's job policy") || !strings.Contains(st.ContainerError, want) {
			t.Errorf("%s: FAILED with %q, want the policy naming %q", id.Name(), st.ContainerError, want)
		}
	}
	for _, c := range h.containers() {
		if id := model.JobID(c.JobID()); id != fine {
			t.Errorf("a container was created for the refused job %s", id)
		}
	}
}
