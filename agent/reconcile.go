package agent

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

// reconcile reads desired and actual state, plans, and queues each job that has actions for
// its worker (a job queued or still being worked on gets no new plan: its worker triggers
// another pass when done). It returns how soon another pass is wanted (0: no timer).
func (a *Agent) reconcile(ctx context.Context) time.Duration {
	t0 := time.Now()
	defer func() { a.m.reconcileDuration.Observe(time.Since(t0).Seconds()) }()
	var wait time.Duration
	later := func(d time.Duration) {
		if d > 0 && (wait == 0 || d < wait) {
			wait = d
		}
	}
	if !a.flush(ctx) {
		// Try the queued writes again, backing off, even if nothing else happens.
		later(backoff(a.flushFailures, a.cfg.RestartDelay, a.cfg.ResyncInterval))
	}

	// What this agent itself is doing is read before the containers are listed, so the
	// listing is never older than it: a job whose worker was busy here is left alone this
	// pass (its worker triggers another when done), and a supervisor that reports after
	// this point is still counted as checking.
	a.mu.Lock()
	atStart := a.snapshotLocked()
	reported := atStart.reported
	a.mu.Unlock()

	desired, err := a.desired(ctx)
	if err != nil {
		a.m.etcdErrors.Inc()
		later(a.passFailed("read deployments", err))
		return wait
	}
	listedAt := time.Now()
	listed, err := a.cfg.Runtime.List(ctx, map[string]string{LabelHost: a.cfg.Name})
	if err != nil {
		later(a.passFailed("list containers", err))
		return wait
	}
	a.passSucceeded()
	ctrs, others := a.sortOut(listed, reported, listedAt)

	now := time.Now()
	clearIn := a.updateThrottles(ctrs, now)
	a.mu.Lock()
	snap := a.snapshotLocked()
	maps.Copy(snap.busy, atStart.busy)
	in := planInput{Desired: desired, Containers: ctrs, Reported: reported, Now: now, RestartDelay: a.cfg.RestartDelay,
		Checking: atStart.checking, Throttle: snap.throttle, Flapping: snap.flapping, FlappingDelay: a.cfg.FlappingRestartDelay,
		Busy: snap.busy, StartBackoff: snap.backoff}
	live := map[model.JobID]bool{}
	for id := range desired {
		live[id] = true
	}
	for _, c := range ctrs {
		live[model.JobID(c.JobID())] = true
	}
	// The one place a task is deleted: its job is gone and nothing of it runs.
	a.forgetIdleLocked(live)
	a.mu.Unlock()
	actions := plan(in)

	a.watchExits(ctx, ctrs)
	// Ports held by containers a start replaces are free for it: it removes them first.
	replaced := map[string]bool{}
	for _, act := range actions {
		if act.Kind == actStart && act.ContainerID != "" {
			replaced[act.ContainerID] = true
		}
	}
	used := map[portKey]bool{}
	for _, c := range slices.Concat(ctrs, others) { // others' ports are taken too
		if replaced[c.ID] {
			continue
		}
		for _, p := range c.Ports {
			used[portKey{p.Proto, p.HostPort}] = true
		}
	}

	later(clearIn)
	byJob := map[model.JobID][]action{}
	var order []model.JobID
	for _, act := range actions {
		if _, ok := byJob[act.JobID]; !ok {
			order = append(order, act.JobID)
		}
		byJob[act.JobID] = append(byJob[act.JobID], act)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range order {
		var run []action
		for _, act := range byJob[id] {
			a.m.actions.WithLabelValues(string(act.Kind), string(act.Reason)).Inc()
			if act.Kind == actWait {
				later(act.After)
				continue
			}
			run = append(run, act)
		}
		if len(run) == 0 {
			continue
		}
		// The job's worker applies them (worker.go); the queue keeps one worker per job.
		t := a.taskLocked(id)
		t.planned, t.plannedFor, t.plannedUsed = run, desired[id], used
		if rep, ok := reported[id]; ok {
			t.plannedRep = rep
		} else {
			t.plannedRep = model.TaskStatus{}
		}
		a.queue.Add(id)
	}
	a.m.reconciles.WithLabelValues("ok").Inc()
	return wait
}

// sortOut keeps the listed containers that are this agent's (see identity.go) and logs,
// once each, those it leaves alone.
func (a *Agent) sortOut(listed []Container, reported map[model.JobID]model.TaskStatus, listedAt time.Time) (mine, others []Container) {
	named := map[string]bool{}
	for _, st := range reported {
		if st.ContainerID != "" {
			named[st.ContainerID] = true
		}
	}
	mine, others, newOthers, err := a.id.sortOut(listed, a.cfg.Name, named, listedAt)
	if err != nil {
		a.log.Warn("keep the container record in the state dir", zap.Error(err))
	}
	for _, c := range newOthers {
		a.log.Info("container of another agent with this host name: left alone",
			zap.String("container-id", short(c.ID)), zap.String("container-name", c.Name),
			zap.String("job-id", c.JobID()), zap.String("cluster-id", c.Labels[LabelCluster]))
	}
	return mine, others
}

// desired reads the host's deployments and their jobs, computing each wanted spec hash.
// When etcd cannot be read it answers from the last successful read, so a running host
// keeps its containers managed (restarts go on) during an etcd outage.
func (a *Agent) desired(ctx context.Context) (map[model.JobID]desiredTask, error) {
	deps, jobs, _, err := a.cfg.Store.HostDeployments(ctx, a.cfg.Name)
	if err == nil {
		a.saveDesired(deps, jobs)
	}
	if err != nil {
		a.mu.Lock()
		last := a.lastDesired
		a.mu.Unlock()
		if last != nil {
			a.log.Warn("read deployments; using the last known", zap.Error(err))
			a.m.etcdErrors.Inc()
			return last, nil
		}
		return nil, err
	}
	out := a.toDesired(deps, jobs)
	a.mu.Lock()
	a.lastDesired = out
	a.mu.Unlock()
	return out, nil
}

// toDesired pairs deployments with their jobs and wanted spec hashes.
func (a *Agent) toDesired(deps map[model.JobID]model.Deployment, jobs map[model.JobID]model.Job) map[model.JobID]desiredTask {
	out := make(map[model.JobID]desiredTask, len(deps))
	for id, d := range deps {
		t := desiredTask{Goal: d.Goal}
		if j, ok := jobs[id]; ok {
			t.Job = &j
			t.SpecHash = specHash(a.spec(&j, nil), &j)
		}
		out[id] = t
	}
	return out
}

// spec builds the container spec of job with the given dynamic ports.
func (a *Agent) spec(j *model.Job, ports map[string]int) ContainerSpec {
	return buildSpec(specInput{Host: a.cfg.Name, Job: j, Defaults: a.cfg.Defaults, Ports: ports})
}

// watchExits starts one watcher per running container not yet watched: it triggers a
// reconcile when the container stops. This is the per-task supervisor's seam; health checks
// and flapping detection (issue 5) hang off it.
func (a *Agent) watchExits(ctx context.Context, ctrs []Container) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range ctrs {
		if !c.Running {
			continue
		}
		t := a.taskLocked(model.JobID(c.JobID()))
		if t.watching[c.ID] {
			continue
		}
		t.watching[c.ID] = true
		id, job := c.ID, c.JobID()
		a.goFunc(func() {
			code, err := a.cfg.Runtime.Wait(ctx, id)
			a.mu.Lock()
			delete(t.watching, id)
			a.mu.Unlock()
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				a.m.exits.Inc()
				a.log.Info("container exited", zap.String("job-id", job), zap.String("container-id", short(id)), zap.Int("exit-code", code))
			}
			a.trigger()
		})
	}
}

// updateThrottles records the runs of exited containers and recomputes each task's
// throttle. It returns how soon a FLAPPING throttle clears by itself (0: none does).
func (a *Agent) updateThrottles(ctrs []Container, now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	byJob := map[model.JobID][]Container{}
	for _, c := range ctrs {
		id := model.JobID(c.JobID())
		byJob[id] = append(byJob[id], c)
		a.taskLocked(id)
	}
	var clearIn time.Duration
	counts := map[model.ThrottleState]int{}
	// A task with no container now (one is being replaced) still counts its run log.
	for id, t := range a.tasks {
		cs := byJob[id]
		present := map[string]bool{}
		current := time.Duration(-1)
		for _, c := range cs {
			present[c.ID] = true
			t.runs.record(c, a.cfg.FlappingRuns)
			if c.Running && !c.StartedAt.IsZero() {
				current = max(now.Sub(c.StartedAt), 0)
			}
		}
		t.runs.forget(present)
		flap, in := flapping(t.runs.runs, current, a.cfg.FlappingRuns, a.cfg.FlappingWindow)
		if flap != t.flapping {
			a.log.Info("flapping", zap.String("job-id", string(id)), zap.Bool("flapping", flap))
		}
		t.flapping = flap
		if in > 0 && (clearIn == 0 || in < clearIn) {
			clearIn = in + time.Millisecond
		}
		if th := t.throttle(); th != model.ThrottleNo {
			counts[th]++
		}
	}
	a.setThrottleGauge(counts)
	return clearIn
}

// setThrottleGauge moves the throttled-tasks gauge by this agent's change, so agents
// sharing one registry (hollow agents) add up. Callers hold mu.
func (a *Agent) setThrottleGauge(counts map[model.ThrottleState]int) {
	for _, t := range []model.ThrottleState{model.ThrottleFlapping, model.ThrottleImageMissing, model.ThrottleImagePullFailed} {
		if d := counts[t] - a.throttleCount[t]; d != 0 {
			a.m.throttled.WithLabelValues(string(t)).Add(float64(d))
		}
		a.throttleCount[t] = counts[t]
	}
}
