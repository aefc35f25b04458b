package agent_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/model"
	"github.com/prometheus/client_golang/prometheus"
)

// freePorts returns n distinct loopback TCP ports nothing listens on now.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close() // held until all are known, so they differ
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// healthHarness is an agent with fast health checks. Its jobs' port "http" has a free
// internal port, returned: the fake's containers have the address 127.0.0.1, so what
// answers there is the test's doing. The only dynamic (external) port is another free one,
// returned second, where nothing listens: checks must not go there.
func healthHarness(t *testing.T) (h *harness, internal, external int, reg *prometheus.Registry) {
	h = newHarness(t)
	ports := freePorts(t, 2)
	reg = h.reg
	h.cfg = func(c *agent.Config) {
		c.PortRange = agent.PortRange{Start: ports[1], End: ports[1] + 1}
		c.HealthCheckInterval = 20 * time.Millisecond
		c.HealthCheckMaxInterval = 100 * time.Millisecond
		c.Registerer = reg
	}
	return h, ports[0], ports[1], reg
}

// stays checks that the task's state remains want while the agent does n full resyncs
// (the positive marker that it had every chance to change it).
func (h *harness) stays(id model.JobID, want model.State, n int) {
	h.t.Helper()
	target := h.metric("helios_agent_resyncs_total", nil) + float64(n)
	h.eventually(fmt.Sprintf("%d resyncs with %s staying %s", n, id.Name(), want), func() bool {
		if st, ok := h.status(id); !ok || st.State != want {
			h.t.Fatalf("state %s (present %v), want it to stay %s", st.State, ok, want)
		}
		return h.metric("helios_agent_resyncs_total", nil) >= target
	})
}

func TestTCPHealthCheckGatesRunning(t *testing.T) {
	h, port, external, reg := healthHarness(t)
	h.start()
	id := h.createJob("tcpcheck", func(j *model.Job) {
		j.Ports = map[string]model.PortMapping{"http": {InternalPort: port}}
		j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckTCP, Port: "http"}
	})
	h.deploy(id, model.GoalStart)
	st := h.waitState(id, model.StateHealthchecking)
	if p := st.Ports["http"].ExternalPort; p == nil || *p != external {
		t.Fatalf("ports %+v, want http on %d", st.Ports, external)
	}
	h.stays(id, model.StateHealthchecking, 2) // nothing listens: never passes
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	run := h.waitState(id, model.StateRunning)
	if run.ContainerID != st.ContainerID {
		t.Errorf("container changed %s -> %s", st.ContainerID, run.ContainerID)
	}
	if got := statesString(h.history(id)); got != "CREATING,STARTING,HEALTHCHECKING,RUNNING" {
		t.Errorf("history = %s", got)
	}
	fails, passes := counter(t, reg, "helios_agent_health_checks_total", "fail", "tcp"), counter(t, reg, "helios_agent_health_checks_total", "pass", "tcp")
	if fails < 2 || passes != 1 {
		t.Errorf("health check metrics: %v fails, %v passes", fails, passes)
	}
}

// counter reads one series of a counter vec from reg (label values in order).
func counter(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			// Labels come sorted by name; callers pass values in that order.
			for i, l := range m.GetLabel() {
				if l.GetValue() != labels[i] {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

func TestHTTPHealthCheckGatesRunning(t *testing.T) {
	h, port, _, reg := healthHarness(t)
	var healthy atomic.Bool
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "/somewhere", http.StatusFound) // 3xx passes
	})}
	go srv.Serve(l)
	defer srv.Close()
	h.start()
	id := h.createJob("httpcheck", func(j *model.Job) {
		j.Ports = map[string]model.PortMapping{"http": {InternalPort: port}}
		j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckHTTP, Port: "http", Path: "/healthz"}
	})
	h.deploy(id, model.GoalStart)
	h.waitState(id, model.StateHealthchecking)
	h.stays(id, model.StateHealthchecking, 2) // 503: never passes
	healthy.Store(true)
	h.waitState(id, model.StateRunning)
	if f := counter(t, reg, "helios_agent_health_checks_total", "fail", "http"); f < 2 {
		t.Errorf("failed http checks counted: %v", f)
	}
	if n := counter(t, reg, "helios_agent_health_check_duration_seconds", "http"); n < 3 {
		t.Errorf("http check durations observed: %v", n)
	}
}

func TestExecHealthCheckDeathMeansFailedThenRestart(t *testing.T) {
	h, _, _, _ := healthHarness(t)
	var pass atomic.Bool
	var execs atomic.Int64
	h.rt.SetExec(func(_ string, cmd []string) (int, error) {
		execs.Add(1)
		if strings.Join(cmd, " ") == "check me" && pass.Load() {
			return 0, nil
		}
		return 1, nil
	})
	h.start()
	id := h.createJob("execcheck", func(j *model.Job) {
		j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckExec, Command: []string{"check", "me"}}
	})
	h.deploy(id, model.GoalStart)
	first := h.waitState(id, model.StateHealthchecking)
	h.eventually("a few failing execs", func() bool { return execs.Load() >= 3 })
	if err := h.rt.Kill(first.ContainerID, 7); err != nil {
		t.Fatal(err)
	}
	failed := h.waitState(id, model.StateFailed)
	if failed.ContainerID != first.ContainerID || !strings.Contains(failed.ContainerError, "during health check") {
		t.Errorf("FAILED status %+v", failed)
	}
	var second model.TaskStatus
	h.eventually("restarted and health checking again", func() bool {
		var ok bool
		second, ok = h.status(id)
		return ok && second.State == model.StateHealthchecking && second.ContainerID != first.ContainerID
	})
	pass.Store(true)
	h.waitState(id, model.StateRunning)
	want := "CREATING,STARTING,HEALTHCHECKING,FAILED,CREATING,STARTING,HEALTHCHECKING,RUNNING"
	if got := statesString(h.history(id)); got != want {
		t.Errorf("history = %s\nwant      %s", got, want)
	}
}

func TestGoalStopEndsHealthCheck(t *testing.T) {
	h, _, _, _ := healthHarness(t)
	h.rt.SetExec(func(string, []string) (int, error) { return 1, nil })
	h.start()
	id := h.createJob("stopcheck", func(j *model.Job) {
		j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckExec, Command: []string{"nope"}}
	})
	h.deploy(id, model.GoalStart)
	h.waitState(id, model.StateHealthchecking)
	if err := h.st.SetGoal(context.Background(), h.name, id, model.GoalStop, ""); err != nil {
		t.Fatal(err)
	}
	h.waitState(id, model.StateStopped)
	h.stays(id, model.StateStopped, 1)
	if got := statesString(h.history(id)); got != "CREATING,STARTING,HEALTHCHECKING,STOPPING,STOPPED" {
		t.Errorf("history = %s", got)
	}
}

func TestHealthCheckResumedAfterAgentRestart(t *testing.T) {
	h, _, _, _ := healthHarness(t)
	var pass atomic.Bool
	h.rt.SetExec(func(string, []string) (int, error) {
		if pass.Load() {
			return 0, nil
		}
		return 1, nil
	})
	h.start()
	id := h.createJob("resume", func(j *model.Job) {
		j.HealthCheck = &model.HealthCheck{Type: model.HealthCheckExec, Command: []string{"x"}}
	})
	h.deploy(id, model.GoalStart)
	before := h.waitState(id, model.StateHealthchecking)
	h.stop()
	pass.Store(true)
	h.start()
	after := h.waitState(id, model.StateRunning)
	if after.ContainerID != before.ContainerID {
		t.Errorf("container replaced across the restart")
	}
	if got := statesString(h.history(id)); got != "CREATING,STARTING,HEALTHCHECKING,RUNNING" {
		t.Errorf("history = %s", got)
	}
}

func TestFlappingAppearsAndClears(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	h.cfg = func(c *agent.Config) {
		c.RestartDelay = 50 * time.Millisecond
		c.FlappingRuns = 3
		c.FlappingWindow = 2 * time.Second
		c.FlappingRestartDelay = 1 * time.Second
		c.Registerer = reg
	}
	h.start()
	id := h.createJob("flappy", nil)
	h.deploy(id, model.GoalStart)
	var last model.TaskStatus
	for i := range 3 {
		st := h.waitState(id, model.StateRunning)
		if i > 0 && st.ContainerID == last.ContainerID {
			h.eventually("next container", func() bool {
				st, _ = h.status(id)
				return st.State == model.StateRunning && st.ContainerID != last.ContainerID
			})
		}
		if st.Throttled != model.ThrottleNo {
			t.Fatalf("run %d throttled %s before 3 short runs", i, st.Throttled)
		}
		last = st
		if err := h.rt.Kill(st.ContainerID, 1); err != nil {
			t.Fatal(err)
		}
	}
	exited := h.waitState(id, model.StateExited)
	if exited.ContainerID != last.ContainerID || exited.Throttled != model.ThrottleFlapping {
		t.Fatalf("after 3 short runs: %+v, want EXITED FLAPPING", exited)
	}
	if g := counter(t, reg, "helios_agent_throttled_tasks", "FLAPPING"); g != 1 {
		t.Errorf("throttled gauge FLAPPING = %v", g)
	}
	t0 := time.Now()
	var st model.TaskStatus
	h.eventually("restarted", func() bool {
		st, _ = h.status(id)
		return st.State == model.StateRunning && st.ContainerID != last.ContainerID
	})
	if d := time.Since(t0); d < 700*time.Millisecond {
		t.Errorf("restarted after %s, want the flapping delay (1s)", d)
	}
	if st.Throttled != model.ThrottleFlapping {
		t.Errorf("new run throttled %s, want FLAPPING until it lasts", st.Throttled)
	}
	// The run going on lifts the last three over 2 s: the throttle clears by itself.
	h.eventually("FLAPPING cleared", func() bool {
		s, _ := h.status(id)
		return s.State == model.StateRunning && s.Throttled == model.ThrottleNo && s.ContainerID == st.ContainerID
	})
	if g := counter(t, reg, "helios_agent_throttled_tasks", "FLAPPING"); g != 0 {
		t.Errorf("throttled gauge FLAPPING = %v after clearing", g)
	}
}

func TestImagePulledWhenMissing(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	h.cfg = func(c *agent.Config) { c.Registerer = reg }
	h.rt.RemoveImage("busybox:latest")
	h.start()
	id := h.createJob("pullme", nil)
	h.deploy(id, model.GoalStart)
	h.waitState(id, model.StateRunning)
	if got := statesString(h.history(id)); got != "PULLING_IMAGE,CREATING,STARTING,RUNNING" {
		t.Errorf("history = %s", got)
	}
	if h.rt.Pulls() != 1 || counter(t, reg, "helios_agent_image_pulls_total", "ok") != 1 {
		t.Errorf("pulls %d, metric %v", h.rt.Pulls(), counter(t, reg, "helios_agent_image_pulls_total", "ok"))
	}
}

func TestImageMissingThrottledAndRetried(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		throttle model.ThrottleState
		result   string
	}{
		{"not found", fmt.Errorf("manifest unknown: %w", agent.ErrImageNotFound), model.ThrottleImageMissing, "missing"},
		{"other failure", errors.New("connection refused"), model.ThrottleImagePullFailed, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			reg := prometheus.NewRegistry()
			h.cfg = func(c *agent.Config) {
				c.ImageMissingRetry = 400 * time.Millisecond
				c.ImagePullRetry = 400 * time.Millisecond
				c.Registerer = reg
			}
			h.rt.RemoveImage("busybox:latest")
			h.rt.SetPullError("busybox:latest", tc.err)
			h.start()
			id := h.createJob("nopull-"+string(tc.result), nil)
			h.deploy(id, model.GoalStart)
			st := h.waitState(id, model.StateFailed)
			if st.Throttled != tc.throttle || !strings.Contains(st.ContainerError, tc.err.Error()) {
				t.Errorf("status %s throttled %s error %q", st.State, st.Throttled, st.ContainerError)
			}
			h.eventually("pull retried", func() bool { return h.rt.Pulls() >= 3 })
			if g := counter(t, reg, "helios_agent_throttled_tasks", string(tc.throttle)); g != 1 {
				t.Errorf("gauge %s = %v", tc.throttle, g)
			}
			if n := counter(t, reg, "helios_agent_image_pulls_total", tc.result); n < 2 {
				t.Errorf("pulls{%s} = %v", tc.result, n)
			}
			h.rt.SetPullError("busybox:latest", nil)
			run := h.waitState(id, model.StateRunning)
			if run.Throttled != model.ThrottleNo {
				t.Errorf("running throttled %s", run.Throttled)
			}
			if got := statesString(h.history(id)); !strings.HasPrefix(got, "PULLING_IMAGE,FAILED,PULLING_IMAGE,FAILED") || !strings.HasSuffix(got, "PULLING_IMAGE,CREATING,STARTING,RUNNING") {
				t.Errorf("history = %s", got)
			}
		})
	}
}

func TestAlwaysPullToleratesFailureWithLocalImage(t *testing.T) {
	h := newHarness(t)
	h.cfg = func(c *agent.Config) { c.AlwaysPull = true }
	h.rt.SetPullError("busybox:latest", errors.New("registry down"))
	h.start()
	id := h.createJob("local", nil)
	h.deploy(id, model.GoalStart)
	st := h.waitState(id, model.StateRunning)
	if st.Throttled != model.ThrottleNo || h.rt.Pulls() != 1 {
		t.Errorf("throttled %s after %d pulls", st.Throttled, h.rt.Pulls())
	}
	if got := statesString(h.history(id)); got != "PULLING_IMAGE,CREATING,STARTING,RUNNING" {
		t.Errorf("history = %s", got)
	}
}
