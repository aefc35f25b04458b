package docker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/model"
)

// fastHealth makes health checks run every 100 ms at first, at most every 500 ms.
func fastHealth(c *agent.Config) {
	c.HealthCheckInterval = 100 * time.Millisecond
	c.HealthCheckMaxInterval = 500 * time.Millisecond
}

func history(t *testing.T, h *harness, id model.JobID) string {
	t.Helper()
	evs, err := h.st.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, e := range evs {
		s = append(s, string(e.Status.State))
	}
	return strings.Join(s, ",")
}

func TestHealthChecksGateRunning(t *testing.T) {
	h := newHarness(t, fastHealth)
	h.start()
	tests := []struct {
		name string
		mod  func(*model.Job)
	}{
		{"http", func(j *model.Job) {
			j.Env = map[string]string{"HTTP": "8080"}
			j.Ports = map[string]model.PortMapping{"web": {InternalPort: 8080}}
			j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckHTTP, Port: "web", Path: "/ok"}
		}},
		{"tcp", func(j *model.Job) {
			j.Env = map[string]string{"LISTEN": "9000"}
			j.Ports = map[string]model.PortMapping{"raw": {InternalPort: 9000}}
			j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckTCP, Port: "raw"}
		}},
		{"exec", func(j *model.Job) {
			j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckExec, Command: []string{"/prog", "true"}}
		}},
	}
	ids := map[string]model.JobID{}
	for _, tt := range tests {
		ids[tt.name] = h.job("hc-"+tt.name, tt.mod)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := ids[tt.name]
			h.waitState(id, model.StateRunning, nil)
			if got := history(t, h, id); got != "CREATING,STARTING,HEALTHCHECKING,RUNNING" {
				t.Errorf("history = %s", got)
			}
		})
	}
}

func TestHealthCheckNeverPassingStaysHealthchecking(t *testing.T) {
	h := newHarness(t, fastHealth)
	h.start()
	http := h.job("hc-never-http", func(j *model.Job) {
		j.Env = map[string]string{"HTTP": "8080"}
		j.Ports = map[string]model.PortMapping{"web": {InternalPort: 8080}}
		j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckHTTP, Port: "web", Path: "/broken"} // 500
	})
	exec := h.job("hc-never-exec", func(j *model.Job) {
		j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckExec, Command: []string{"/prog", "exit", "1"}}
	})
	first := map[model.JobID]string{}
	for _, id := range []model.JobID{http, exec} {
		first[id] = h.waitState(id, model.StateHealthchecking, nil).ContainerID
	}
	h.waitFailedChecks(5, model.HealthCheckHTTP, model.HealthCheckExec)
	h.stillHealthchecking(first)
}

// TestPortChecksReachTheContainer: Docker's userland proxy accepts connections on a
// published host port whether or not the container listens, so a check through it would
// pass for a container that serves nothing. Port checks go to the container's own address
// and port instead: one that never listens stays HEALTHCHECKING while failed checks are
// counted, one that listens is RUNNING, and an HTTP check arrives addressed to the
// container's port, not to the published one.
func TestPortChecksReachTheContainer(t *testing.T) {
	h := newHarness(t, fastHealth)
	h.start()
	tcp := &model.HealthCheck{Type: model.HealthCheckTCP, Port: "raw"}
	silentTCP := h.job("hc-silent-tcp", func(j *model.Job) {
		j.Ports = map[string]model.PortMapping{"raw": {InternalPort: 9000}} // published; nothing listens
		j.HealthCheck = tcp
	})
	silentHTTP := h.job("hc-silent-http", func(j *model.Job) {
		j.Env = map[string]string{"HTTP": "8081"}
		j.Ports = map[string]model.PortMapping{"web": {InternalPort: 8080}} // published; nothing listens
		j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckHTTP, Port: "web", Path: "/ok"}
	})
	listening := h.job("hc-listening-tcp", func(j *model.Job) {
		j.Env = map[string]string{"LISTEN": "9000"}
		j.Ports = map[string]model.PortMapping{"raw": {InternalPort: 9000}}
		j.HealthCheck = tcp
	})
	direct := h.job("hc-direct-http", func(j *model.Job) {
		j.Env = map[string]string{"HTTP": "8080"}
		j.Ports = map[string]model.PortMapping{"web": {InternalPort: 8080}}
		j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckHTTP, Port: "web", Path: "/direct"}
	})
	first := map[model.JobID]string{}
	for _, id := range []model.JobID{silentTCP, silentHTTP} {
		var st model.TaskStatus
		h.eventually(id.Name()+" checked", 30*time.Second, func() bool {
			sts, err := h.st.TaskStatuses(context.Background(), h.name)
			st = sts[id]
			return err == nil && (st.State == model.StateHealthchecking || st.State == model.StateRunning)
		})
		if st.State != model.StateHealthchecking {
			t.Fatalf("%s: %s though nothing listens in the container (history %s)", id.Name(), st.State, history(t, h, id))
		}
		first[id] = st.ContainerID
		if p := st.Ports[map[model.JobID]string{silentTCP: "raw", silentHTTP: "web"}[id]]; p.ExternalPort == nil {
			t.Fatalf("%s: port not published (%+v): the test needs the proxy's port", id.Name(), st.Ports)
		}
	}
	h.waitState(listening, model.StateRunning, nil)
	h.waitState(direct, model.StateRunning, nil)
	// The jobs that passed check no more: failures counted from now on are the silent ones'.
	h.waitFailedChecks(5, model.HealthCheckTCP, model.HealthCheckHTTP)
	h.stillHealthchecking(first)
}

// waitFailedChecks waits until the agent has counted n more failed checks of each type.
func (h *harness) waitFailedChecks(n float64, types ...string) {
	h.t.Helper()
	base := map[string]float64{}
	for _, typ := range types {
		base[typ] = h.healthChecks(typ, "fail")
	}
	for _, typ := range types {
		h.eventually(fmt.Sprintf("%v more failed %s checks", n, typ), 30*time.Second, func() bool {
			return h.healthChecks(typ, "fail") >= base[typ]+n
		})
	}
}

// stillHealthchecking asserts that each job is HEALTHCHECKING in the container it had.
func (h *harness) stillHealthchecking(containers map[model.JobID]string) {
	h.t.Helper()
	sts, err := h.st.TaskStatuses(context.Background(), h.name)
	if err != nil {
		h.t.Fatal(err)
	}
	for id, cid := range containers {
		if st := sts[id]; st.State != model.StateHealthchecking || st.ContainerID != cid {
			h.t.Errorf("%s: %s in %s, want still HEALTHCHECKING in %s", id.Name(), st.State, short(st.ContainerID), short(cid))
		}
	}
}

func TestDeathDuringHealthCheckFailsThenRestarts(t *testing.T) {
	h := newHarness(t, fastHealth)
	h.start()
	id := h.job("hc-dies", func(j *model.Job) {
		j.Env = map[string]string{"DIE_AFTER": "1s"}
		j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckExec, Command: []string{"/prog", "exit", "1"}}
	})
	// The states come and go within a second: read them from the history, where every one
	// is kept, rather than hoping to poll each while it lasts.
	want := []model.State{model.StateCreating, model.StateStarting, model.StateHealthchecking, model.StateFailed,
		model.StateCreating, model.StateStarting, model.StateHealthchecking}
	var evs []model.TaskStatusEvent
	deadline := time.Now().Add(60 * time.Second)
	for len(evs) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("history after 60s: %s", history(t, h, id))
		}
		time.Sleep(50 * time.Millisecond)
		var err error
		if evs, err = h.st.History(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	for i, st := range want {
		if evs[i].Status.State != st {
			t.Fatalf("history = %s, want it to start %v", history(t, h, id), want)
		}
	}
	checking, failed, again := evs[2].Status, evs[3].Status, evs[6].Status
	if failed.ContainerID != checking.ContainerID || !strings.Contains(failed.ContainerError, "code 3 during health check") {
		t.Errorf("FAILED status: container %s (checked %s), error %q", short(failed.ContainerID), short(checking.ContainerID), failed.ContainerError)
	}
	if again.ContainerID == checking.ContainerID {
		t.Errorf("the restart checks container %s again, want a new one", short(again.ContainerID))
	}
}

func TestFlappingOnDocker(t *testing.T) {
	h := newHarness(t, func(c *agent.Config) {
		c.RestartDelay = 100 * time.Millisecond
		c.FlappingRuns = 3
		c.FlappingWindow = 3 * time.Second
		c.FlappingRestartDelay = 2 * time.Second
	})
	h.start()
	dir := t.TempDir()
	id := h.job("flapper", func(j *model.Job) {
		// Crashes at once three times, then stays up.
		j.Env = map[string]string{"CRASH_FILE": "/state/count", "CRASHES": "3"}
		j.Volumes = map[string]string{"/state": dir}
	})
	flapped := h.waitState(id, model.StateExited, func(s model.TaskStatus) bool { return s.Throttled == model.ThrottleFlapping })
	run := h.waitState(id, model.StateRunning, func(s model.TaskStatus) bool { return s.ContainerID != flapped.ContainerID })
	if run.Throttled != model.ThrottleFlapping {
		t.Errorf("fourth run throttled %s, want FLAPPING until it has lasted", run.Throttled)
	}
	h.waitState(id, model.StateRunning, func(s model.TaskStatus) bool {
		return s.ContainerID == run.ContainerID && s.Throttled == model.ThrottleNo
	})
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
