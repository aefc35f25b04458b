package agent

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

// reapTimeout is how long a container no deployment knows gets between SIGTERM and SIGKILL.
const reapTimeout = 10 * time.Second

// apply carries out one action. d is the job's deployment (zero if none), rep its status as
// last written and used the host ports the agent's containers held when planning.
func (a *Agent) apply(ctx context.Context, act action, d desiredTask, rep model.TaskStatus, used map[portKey]bool) error {
	switch act.Kind {
	case actReport:
		st := a.statusFor(act.JobID, d.Job, rep)
		st.Goal, st.State, st.ContainerID = act.Goal, act.State, act.ContainerID
		if act.ContainerID != "" {
			if c, err := a.cfg.Runtime.Inspect(ctx, act.ContainerID); err == nil && d.Job != nil {
				st.Ports = taskPorts(d.Job, c.Ports)
			}
		}
		if act.Error != "" {
			st.ContainerError = act.Error
		}
		return a.setStatus(ctx, act.JobID, st)

	case actDeleteStatus:
		return a.deleteStatus(ctx, act.JobID)

	case actStop:
		a.stopChecker(act.JobID, act.ContainerID)
		st := a.statusFor(act.JobID, d.Job, rep)
		st.Goal, st.ContainerID = act.Goal, act.ContainerID
		st.State = model.StateStopping
		if err := a.setStatus(ctx, act.JobID, st); err != nil {
			return err
		}
		if err := a.cfg.Runtime.Stop(ctx, act.ContainerID, killTimeout(d.Job)); err != nil {
			return err
		}
		st.State = model.StateStopped
		return a.setStatus(ctx, act.JobID, st)

	case actRemove:
		a.stopChecker(act.JobID, act.ContainerID)
		job := d.Job
		if job == nil {
			job = rep.Job
		}
		if !act.Undeploy {
			timeout := reapTimeout
			if job != nil {
				timeout = killTimeout(job)
			}
			if err := a.cfg.Runtime.Stop(ctx, act.ContainerID, timeout); err != nil && !errors.Is(err, ErrNoSuchContainer) {
				return err
			}
			return a.remove(ctx, act)
		}
		st := a.statusFor(act.JobID, job, rep)
		st.Goal, st.ContainerID = model.GoalUndeploy, act.ContainerID
		if act.Stopping {
			st.State = model.StateStopping
			if err := a.setStatus(ctx, act.JobID, st); err != nil {
				return err
			}
			if err := a.cfg.Runtime.Stop(ctx, act.ContainerID, killTimeout(job)); err != nil && !errors.Is(err, ErrNoSuchContainer) {
				return err
			}
		}
		if act.Stopped {
			st.State = model.StateStopped
			if err := a.setStatus(ctx, act.JobID, st); err != nil {
				return err
			}
		}
		if err := a.remove(ctx, act); err != nil {
			return err
		}
		return a.deleteStatus(ctx, act.JobID)

	case actStart:
		if d.Job == nil {
			return fmt.Errorf("start %s: job unknown", act.JobID)
		}
		if act.ContainerID != "" {
			a.stopChecker(act.JobID, act.ContainerID)
			if err := a.cfg.Runtime.Stop(ctx, act.ContainerID, killTimeout(d.Job)); err != nil && !errors.Is(err, ErrNoSuchContainer) {
				return err
			}
			if err := a.remove(ctx, act); err != nil {
				return err
			}
			a.m.restarts.Inc()
		}
		err := a.start(ctx, act, d, rep, used)
		if err != nil && ctx.Err() == nil {
			retry := max(a.cfg.RestartDelay, 5*time.Second)
			var ie *imageError
			if errors.As(err, &ie) {
				retry = ie.retry
			}
			a.mu.Lock()
			a.taskLocked(act.JobID).startBackoff = time.Now().Add(retry)
			a.mu.Unlock()
		}
		return err

	case actHealthcheck:
		a.startChecker(ctx, act.JobID, act.ContainerID, d.Job)
		return nil

	case actPublish:
		return a.publish(ctx, act, d.Job)

	case actWithdraw:
		job := d.Job
		if job == nil {
			job = rep.Job
		}
		return a.withdraw(ctx, act, job)
	}
	return fmt.Errorf("unknown action %q", act.Kind)
}

// remove removes the action's container and logs it. Every container the agent removes goes
// through here, so each removal is logged once, at info, with the container and why (the
// action's reason; a restart or a recreate removes too): a container of the host that is gone
// without such a line was removed by someone else.
func (a *Agent) remove(ctx context.Context, act action) error {
	if err := a.cfg.Runtime.Remove(ctx, act.ContainerID); err != nil {
		return err
	}
	a.log.Info("container removed", zap.String("job-id", string(act.JobID)), zap.String("container-id", short(act.ContainerID)),
		zap.String("action", string(act.Kind)), zap.String("reason", string(act.Reason)))
	return nil
}

// start creates and starts a container for the job: CREATING, STARTING, RUNNING, or FAILED.
func (a *Agent) start(ctx context.Context, act action, d desiredTask, rep model.TaskStatus, used map[portKey]bool) error {
	j := d.Job
	if problems := a.cfg.Policy.Check(j, resolveHostPath); len(problems) > 0 {
		return a.fail(ctx, act, j, rep, "", fmt.Errorf("refused by this host's job policy: %s", strings.Join(problems, "; ")))
	}
	protos := map[string]string{}
	for name, pm := range j.Ports {
		if !pm.IsStatic() {
			protos[name] = pm.Proto()
		}
	}
	dyn, err := a.ports.allocate(protos, used)
	if err != nil {
		return a.fail(ctx, act, j, rep, "", err)
	}
	defer a.ports.release(protos, dyn)

	spec := a.spec(j, dyn)
	spec.Name = containerName(a.cfg.Name, j.ID)
	spec.Labels[LabelSpecHash] = d.SpecHash
	// Not part of the spec hash: containers made before the label existed, or under a
	// cluster id etcd has since replaced, are still the wanted ones.
	cluster := a.id.Cluster()
	if cluster == "" {
		return a.fail(ctx, act, j, rep, "", errors.New("cluster id unknown yet"))
	}
	spec.Labels[LabelCluster] = cluster

	st := a.statusFor(act.JobID, j, rep)
	st.Goal, st.ContainerID, st.ContainerError = act.Goal, "", ""
	st.Ports = taskPorts(j, spec.Ports)
	st.Env = envMap(spec.Env)
	id, err := a.create(ctx, act, j, spec, &st)
	if err != nil {
		return err
	}
	st.State, st.ContainerID = model.StateStarting, id
	if err := a.setStatus(ctx, act.JobID, st); err != nil {
		return err
	}
	startErr := a.cfg.Runtime.Start(ctx, id)
	// Recorded after the start, off its critical path: the container's labels already make
	// it this agent's; only a later change of cluster id needs the record.
	if err := a.id.record(id); err != nil {
		a.log.Warn("record the new container in the state dir", zap.String("container-id", short(id)), zap.Error(err))
	}
	if startErr != nil {
		return a.fail(ctx, act, j, st, id, startErr)
	}
	a.m.starts.Inc()
	a.watchExits(ctx, []Container{{ID: id, Running: true, Labels: spec.Labels}})
	if j.HealthCheck != nil {
		// The supervisor reports HEALTHCHECKING, then RUNNING once a check passes.
		a.startChecker(ctx, act.JobID, id, j)
		return nil
	}
	st.State = model.StateRunning
	return a.setStatus(ctx, act.JobID, st)
}

// create creates the task's container, reporting CREATING (after PULLING_IMAGE when it
// pulls), and updates *st as last written. The create goes first: the image is almost always
// present, and looking for it before every create was a round trip to the engine on the way
// to the start. Only the engine's "no such image" (or --always-pull) takes the pull path, and
// the statuses written are those of looking first: the history does not show the order.
func (a *Agent) create(ctx context.Context, act action, j *model.Job, spec ContainerSpec, st *model.TaskStatus) (string, error) {
	if !a.cfg.AlwaysPull {
		id, err := a.cfg.Runtime.Create(ctx, spec)
		if !errors.Is(err, ErrNoSuchImage) {
			st.Throttled = a.setImageThrottle(act.JobID, "")
			st.State = model.StateCreating
			if serr := a.setStatus(ctx, act.JobID, *st); serr != nil {
				return "", serr
			}
			if err != nil {
				return "", a.fail(ctx, act, j, *st, "", err)
			}
			return id, nil
		}
	}
	next, err := a.ensureImage(ctx, act, j, *st)
	*st = next
	if err != nil {
		return "", err
	}
	st.State = model.StateCreating
	if err := a.setStatus(ctx, act.JobID, *st); err != nil {
		return "", err
	}
	id, err := a.cfg.Runtime.Create(ctx, spec)
	if err != nil {
		return "", a.fail(ctx, act, j, *st, "", err)
	}
	return id, nil
}

// fail reports FAILED with the error and returns it.
func (a *Agent) fail(ctx context.Context, act action, j *model.Job, st model.TaskStatus, cid string, cause error) error {
	st.Job, st.Goal, st.State, st.ContainerID = j, act.Goal, model.StateFailed, cid
	st.ContainerError = cause.Error()
	if err := a.setStatus(ctx, act.JobID, st); err != nil {
		a.log.Warn("report FAILED", zap.String("job-id", string(act.JobID)), zap.Error(err))
	}
	return cause
}

// statusFor starts a status from the last reported one, with the job filled in.
func (a *Agent) statusFor(id model.JobID, j *model.Job, rep model.TaskStatus) model.TaskStatus {
	st := rep
	if j != nil {
		st.Job = j
	}
	a.mu.Lock()
	st.Throttled = a.taskLocked(id).throttle()
	a.mu.Unlock()
	return st
}

// killTimeout is the job's secondsToWaitBeforeKill (default 120 s).
func killTimeout(j *model.Job) time.Duration {
	if j == nil {
		return reapTimeout
	}
	return j.KillTimeout()
}

// taskPorts is the job's ports with the external ports actually bound.
func taskPorts(j *model.Job, bound []PortBinding) map[string]model.PortMapping {
	if len(j.Ports) == 0 {
		return nil
	}
	out := make(map[string]model.PortMapping, len(j.Ports))
	for name, pm := range j.Ports {
		for _, b := range bound {
			if b.ContainerPort == pm.InternalPort && b.Proto == pm.Proto() && b.HostPort != 0 {
				ext := b.HostPort
				pm.ExternalPort = &ext
				break
			}
		}
		out[name] = pm
	}
	return out
}

func envMap(env []string) map[string]string {
	out := make(map[string]string, len(env))
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		out[k] = v
	}
	return out
}

// resolveHostPath follows symlinks in a host path, so a job cannot reach a denied path
// through a link. Of a path that does not exist yet (Docker would create it) the longest
// existing parent is resolved: /srv/link/new with /srv/link -> /etc is /etc/new.
func resolveHostPath(p string) string {
	rest := ""
	for dir := filepath.Clean(p); ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest)
		}
		if dir == "/" || dir == "." {
			return p
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}
