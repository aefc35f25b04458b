package agent

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// perJobListMax is how many jobs a pass lists one by one; a pass over more lists the host.
const perJobListMax = 8

// reconcile reads desired and actual state, plans, and queues each job that has actions for
// its worker (a job queued or still being worked on gets no new plan: its worker wakes it
// again when done). A pass over everything (all) lists all of the host's containers; a pass
// over a few jobs (scope) lists only theirs and plans only them. Waits the plan asks for
// become timers of the jobs concerned (wake.go).
func (a *Agent) reconcile(ctx context.Context, all bool, scope map[model.JobID]bool) {
	t0 := time.Now()
	defer func() { a.m.reconcileDuration.Observe(time.Since(t0).Seconds()) }()
	a.kickFlush(ctx) // in the background: a pass never waits for etcd
	retry := func(d time.Duration) {
		if all {
			a.wakes.everythingAfter(d)
			return
		}
		for id := range scope {
			a.wakes.jobAfter(id, d)
		}
	}

	// What this agent itself is doing is read before the containers are listed, so the
	// listing is never older than it: a job whose worker was busy here is left alone this
	// pass (its worker wakes it when done), and a supervisor that reports after this point
	// is still counted as checking.
	a.mu.Lock()
	atStart := a.snapshotLocked()
	reported := atStart.reported
	a.mu.Unlock()
	published := map[model.JobID]string{}
	if a.cfg.Registrar != nil {
		published = a.cfg.Registrar.Published()
	}

	desired, err := a.desired(ctx)
	if errors.Is(err, errNotListed) {
		return // the watch's first list wakes every job
	}
	if err != nil {
		a.m.etcdErrors.Inc()
		retry(a.passFailed("read deployments", err))
		return
	}
	restored := a.restoreSuspected() // after desired: never older than the deployments read
	listedAt := time.Now()
	listed, whole, err := a.observe(ctx, all, scope)
	if err != nil {
		retry(a.passFailed("list containers", err))
		return
	}
	a.passSucceeded()
	mine, others := a.sortOut(listed, reported, listedAt, !whole)
	ctrs := mine
	if !all {
		ctrs = inScope(mine, scope)
	}

	now := time.Now()
	a.updateThrottles(ctrs, scope, now)
	a.mu.Lock()
	a.updateActualLocked(mine, others, whole, scope)
	snap := a.snapshotLocked()
	maps.Copy(snap.busy, atStart.busy)
	in := planInput{Desired: desired, Containers: ctrs, Reported: reported, Now: now, RestartDelay: a.cfg.RestartDelay,
		Checking: atStart.checking, Throttle: snap.throttle, Flapping: snap.flapping, FlappingDelay: a.cfg.FlappingRestartDelay,
		Busy: snap.busy, StartBackoff: snap.backoff, ErrorBackoff: snap.retryAt,
		Discovery: a.cfg.Domain != "" && a.cfg.Registrar != nil, Published: published}
	if !all {
		in.Desired, in.Reported = onlyScope(desired, scope), onlyScope(reported, scope)
		in.Published = onlyScope(published, scope)
	}
	live := map[model.JobID]bool{}
	for id := range desired {
		live[id] = true
	}
	for _, c := range a.actual {
		live[model.JobID(c.JobID())] = true
	}
	// The one place a task is deleted: its job is gone and nothing of it runs.
	a.forgetIdleLocked(live)
	// Ports held by any container of the host are taken, but those of containers a start
	// replaces are free for it: it removes them first.
	known := slices.Collect(maps.Values(a.actual))
	a.mu.Unlock()
	actions := plan(in)
	held := 0
	if restored.suspect {
		kept := a.holdForRestore(actions, all)
		held, actions = len(actions)-len(kept), kept
	} else if all {
		a.m.restoreHeld.Set(0)
	}
	if restored.known {
		// Reported in etcd for the operators (restorereport.go), in the background.
		a.report.wantReport(restored.suspect, restored.etcdGen, restored.agentGen, held, all, now)
		a.kickRestoreReport(ctx)
	}

	a.watchExits(ctx, ctrs)
	replaced := map[string]bool{}
	for _, act := range actions {
		if act.Kind == actStart && act.ContainerID != "" {
			replaced[act.ContainerID] = true
		}
	}
	used := map[portKey]bool{}
	for _, c := range known {
		if replaced[c.ID] {
			continue
		}
		for _, p := range c.Ports {
			used[portKey{p.Proto, p.HostPort}] = true
		}
	}

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
				a.wakes.jobAfter(id, act.After)
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
}

// observe lists the containers a pass needs: all of the host's for a pass over everything
// (or over many jobs), else each job's own. whole tells which it did.
func (a *Agent) observe(ctx context.Context, all bool, scope map[model.JobID]bool) (listed []Container, whole bool, err error) {
	if all || len(scope) > perJobListMax {
		a.m.containerLists.WithLabelValues("host").Inc()
		listed, err = a.cfg.Runtime.List(ctx, map[string]string{LabelHost: a.cfg.Name})
		return listed, true, err
	}
	for id := range scope {
		a.m.containerLists.WithLabelValues("job").Inc()
		cs, err := a.cfg.Runtime.List(ctx, map[string]string{LabelHost: a.cfg.Name, LabelJobID: string(id)})
		if err != nil {
			return nil, false, err
		}
		listed = append(listed, cs...)
	}
	return listed, false, nil
}

// updateActualLocked keeps a.actual, the host's containers as last seen (for the ports in
// use and the jobs still alive): a whole listing replaces it, a listing of some jobs
// replaces theirs. Callers hold mu.
func (a *Agent) updateActualLocked(mine, others []Container, whole bool, scope map[model.JobID]bool) {
	if whole {
		a.actual = map[string]Container{}
	} else {
		for cid, c := range a.actual {
			if scope[model.JobID(c.JobID())] {
				delete(a.actual, cid)
			}
		}
	}
	for _, c := range slices.Concat(mine, others) {
		a.actual[c.ID] = c
	}
}

func inScope(cs []Container, scope map[model.JobID]bool) []Container {
	var out []Container
	for _, c := range cs {
		if scope[model.JobID(c.JobID())] {
			out = append(out, c)
		}
	}
	return out
}

func onlyScope[V any](m map[model.JobID]V, scope map[model.JobID]bool) map[model.JobID]V {
	out := make(map[model.JobID]V, len(scope))
	for id := range scope {
		if v, ok := m[id]; ok {
			out[id] = v
		}
	}
	return out
}

// sortOut keeps the listed containers that are this agent's (see identity.go) and logs,
// once each, those it leaves alone.
func (a *Agent) sortOut(listed []Container, reported map[model.JobID]model.TaskStatus, listedAt time.Time, partial bool) (mine, others []Container) {
	named := map[string]bool{}
	for _, st := range reported {
		if st.ContainerID != "" {
			named[st.ContainerID] = true
		}
	}
	mine, others, newOthers, err := a.id.sortOut(listed, a.cfg.Name, named, listedAt, partial)
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

// desired is the host's deployments and their jobs, from the cache the watch keeps. Jobs
// not read yet are read now, once each. Until the watch has listed, the deployments kept
// in the state dir serve (an agent restarted during an etcd outage), else errNotListed.
func (a *Agent) desired(ctx context.Context) (map[model.JobID]desiredTask, error) {
	out, unread, filled := a.cache.desired()
	if !filled {
		a.mu.Lock()
		last := a.lastDesired
		a.mu.Unlock()
		if last != nil {
			return last, nil
		}
		return nil, errNotListed
	}
	for _, id := range unread {
		j, err := a.cfg.Store.GetJob(ctx, id)
		if errors.Is(err, store.ErrJobNotFound) {
			continue // left alone, as plan does with a deployment without a readable job
		}
		if errors.Is(err, store.ErrPermissionDenied) {
			// The deployment came from a master older than the jobdefs copy, and with etcd
			// authentication on this agent may not read config/jobs/. Retrying cannot help
			// soon; only a redeploy by a current master writes the copy.
			a.log.Error("the deployment has no copy of its job under this host's keys (deployed by an older master) and this agent's etcd user may not read the job itself: undeploy and deploy the job again",
				zap.String("job-id", string(id)), zap.Error(err))
			a.wakes.jobAfter(id, a.cfg.ResyncInterval)
			continue
		}
		if err != nil {
			// Left alone this pass; tried again soon.
			a.m.etcdErrors.Inc()
			a.log.Warn("read job", zap.String("job-id", string(id)), zap.Error(err))
			a.wakes.jobAfter(id, backoff(1, a.cfg.RestartDelay, a.cfg.ResyncInterval))
			continue
		}
		cj := a.cachedJob(j)
		a.cache.addJob(id, cj)
		t := out[id]
		t.Job, t.SpecHash = cj.job, cj.specHash
		out[id] = t
	}
	if deps, jobs, changed := a.cache.takeChanged(); changed {
		a.saveDesiredSoon(deps, jobs)
	}
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
			a.wakes.job(model.JobID(job))
		})
	}
}

// updateThrottles records the runs of exited containers and recomputes the throttle of
// each task in scope (nil: every task), and wakes a task when its FLAPPING throttle will
// clear by itself.
func (a *Agent) updateThrottles(ctrs []Container, scope map[model.JobID]bool, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	byJob := map[model.JobID][]Container{}
	for _, c := range ctrs {
		id := model.JobID(c.JobID())
		byJob[id] = append(byJob[id], c)
		a.taskLocked(id)
	}
	counts := map[model.ThrottleState]int{}
	// A task with no container now (one is being replaced) still counts its run log.
	for id, t := range a.tasks {
		if scope == nil || scope[id] {
			a.updateThrottleLocked(id, t, byJob[id], now)
		}
		if th := t.throttle(); th != model.ThrottleNo {
			counts[th]++
		}
	}
	a.setThrottleGauge(counts)
}

// updateThrottleLocked records the runs of job id's containers cs and recomputes whether
// the task is flapping. Callers hold mu.
func (a *Agent) updateThrottleLocked(id model.JobID, t *task, cs []Container, now time.Time) {
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
	if in > 0 {
		a.wakes.jobAfter(id, in+time.Millisecond)
	}
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
