package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

// Health check timeouts, the original's.
const (
	healthConnectTimeout = 500 * time.Millisecond
	healthReadTimeout    = 10 * time.Second
)

// healthTarget is host:port where a check of port reaches the process in the container.
//
// Where the container has an address of its own (bridge or a user network) that is its
// address and the internal port: a published host port is answered by Docker's userland
// proxy, which accepts a connection whether or not anything listens in the container, so a
// TCP check through it always passed. With host networking the process listens on the
// host: 127.0.0.1 and the internal port. Only a container without an address (e.g. network
// mode container:<id>) is checked through its published host port, on 127.0.0.1 or the
// address the port is bound to.
func healthTarget(j *model.Job, c Container, port string) (string, error) {
	pm, ok := j.Ports[port]
	if !ok {
		return "", fmt.Errorf("health check port %q is not one of the job's ports", port)
	}
	if c.NetworkMode == "host" {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(pm.InternalPort)), nil
	}
	if c.IPAddress != "" {
		return net.JoinHostPort(c.IPAddress, strconv.Itoa(pm.InternalPort)), nil
	}
	for _, b := range c.Ports {
		if b.ContainerPort == pm.InternalPort && b.Proto == pm.Proto() && b.HostPort != 0 {
			ip := b.HostIP
			if ip == "" || ip == "0.0.0.0" || ip == "::" {
				ip = "127.0.0.1"
			}
			return net.JoinHostPort(ip, strconv.Itoa(b.HostPort)), nil
		}
	}
	return "", fmt.Errorf("health check port %q: the container has no address (network mode %q) and the port is not published", port, c.NetworkMode)
}

// checkHealth runs one check of hc against container c; nil means it passed.
func checkHealth(ctx context.Context, rt Runtime, j *model.Job, c Container) error {
	hc := j.HealthCheck
	switch hc.Type {
	case model.HealthCheckExec:
		code, out, err := rt.Exec(ctx, c.ID, hc.Command)
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("exec %v exited %d: %.200s", hc.Command, code, out)
		}
		return nil
	case model.HealthCheckTCP:
		target, err := healthTarget(j, c, hc.Port)
		if err != nil {
			return err
		}
		d := net.Dialer{Timeout: healthConnectTimeout}
		conn, err := d.DialContext(ctx, "tcp", target)
		if err != nil {
			return err
		}
		return conn.Close()
	case model.HealthCheckHTTP:
		target, err := healthTarget(j, c, hc.Port)
		if err != nil {
			return err
		}
		return checkHTTP(ctx, "http://"+target+hc.Path)
	}
	return fmt.Errorf("unknown health check type %q", hc.Type)
}

// checkHTTP GETs url: 2xx and 3xx pass (redirects are not followed).
func checkHTTP(ctx context.Context, url string) error {
	cl := &http.Client{
		Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: healthConnectTimeout}).DialContext,
			ResponseHeaderTimeout: healthReadTimeout,
			DisableKeepAlives:     true,
			Proxy:                 nil, // a check goes straight to the container
		},
		Timeout:       healthConnectTimeout + healthReadTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := cl.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode >= 400 {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return nil
}

// nextInterval doubles the check interval up to max.
func nextInterval(cur, max time.Duration) time.Duration {
	return min(2*cur, max)
}

// checker is the supervisor of one container while its health check has not passed.
type checker struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startChecker starts the health-check supervisor of container cid for job d.Job unless
// one runs already. It reports HEALTHCHECKING (unless already reported for cid), checks with
// an interval backing off from HealthCheckInterval to HealthCheckMaxInterval, and reports
// RUNNING when a check passes, or FAILED if the container dies meanwhile. The loop leaves a
// checked task alone; stops, removals and restarts end the supervisor first (stopChecker).
func (a *Agent) startChecker(ctx context.Context, id model.JobID, cid string, j *model.Job) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.taskLocked(id)
	if t.checkers[cid] != nil {
		return
	}
	cctx, cancel := context.WithCancel(ctx)
	ch := &checker{cancel: cancel, done: make(chan struct{})}
	t.checkers[cid] = ch
	a.goFunc(func() {
		defer func() {
			cancel()
			a.mu.Lock()
			delete(t.checkers, cid)
			a.mu.Unlock()
			close(ch.done)
			a.wakes.job(id)
		}()
		a.superviseHealth(cctx, id, cid, j)
	})
}

// stopChecker ends the supervisor of job id's container cid, if any, and waits for it.
func (a *Agent) stopChecker(id model.JobID, cid string) {
	a.mu.Lock()
	ch := a.taskLocked(id).checkers[cid]
	a.mu.Unlock()
	if ch != nil {
		ch.cancel()
		<-ch.done
	}
}

func (a *Agent) superviseHealth(ctx context.Context, id model.JobID, cid string, j *model.Job) {
	log := a.log.With(zap.String("job-id", string(id)), zap.String("container-id", short(cid)))
	exited := make(chan int, 1)
	go func() {
		code, err := a.cfg.Runtime.Wait(ctx, cid)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			code = -1
		}
		exited <- code
	}()
	c, err := a.cfg.Runtime.Inspect(ctx, cid)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("health check: inspect container", zap.Error(err))
		}
		return // the loop sees what became of the container and starts another supervisor
	}
	var rep model.TaskStatus
	a.mu.Lock()
	if r := a.taskLocked(id).reported; r != nil {
		rep = *r
	}
	a.mu.Unlock()
	st := a.statusFor(id, j, rep)
	st.Goal, st.ContainerID = model.GoalStart, cid
	if j.Ports != nil {
		st.Ports = taskPorts(j, c.Ports)
	}
	if rep.State != model.StateHealthchecking || rep.ContainerID != cid {
		st.State = model.StateHealthchecking
		if err := a.setStatus(ctx, id, st); err != nil {
			if ctx.Err() == nil {
				log.Warn("report HEALTHCHECKING", zap.Error(err))
			}
			return
		}
	}
	typ := j.HealthCheck.Type
	interval := a.cfg.HealthCheckInterval
	for {
		select {
		case code := <-exited:
			a.m.exits.Inc()
			st = a.statusFor(id, j, st)
			st.State = model.StateFailed
			st.ContainerError = fmt.Sprintf("container exited with code %d during health check", code)
			log.Info("container died during health check", zap.Int("exit-code", code))
			if err := a.setStatus(ctx, id, st); err != nil && ctx.Err() == nil {
				log.Warn("report FAILED", zap.Error(err))
			}
			return
		default:
		}
		t0 := time.Now()
		err := checkHealth(ctx, a.cfg.Runtime, j, c)
		if ctx.Err() != nil {
			return
		}
		a.m.healthDuration.WithLabelValues(typ).Observe(time.Since(t0).Seconds())
		if err == nil {
			a.m.healthChecks.WithLabelValues(typ, "pass").Inc()
			// A container dying right after passing is the loop's to see (EXITED, restart).
			st = a.statusFor(id, j, st)
			st.State = model.StateRunning
			log.Info("health check passed")
			if err := a.setStatus(ctx, id, st); err != nil && ctx.Err() == nil {
				log.Warn("report RUNNING", zap.Error(err))
			}
			return
		}
		a.m.healthChecks.WithLabelValues(typ, "fail").Inc()
		log.Debug("health check failed", zap.Duration("next-in", interval), zap.Error(err))
		select {
		case <-ctx.Done():
			return
		case code := <-exited:
			exited <- code // reported at the top of the loop
		case <-time.After(interval):
		}
		interval = nextInterval(interval, a.cfg.HealthCheckMaxInterval)
	}
}
