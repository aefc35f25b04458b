package agent

import (
	"context"
	"time"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

// work hands each queued job to a goroutine of its own until ctx ends: a slow stop holds up
// no other job, and the queue never hands out a job whose worker is still at it.
func (a *Agent) work(ctx context.Context) {
	for {
		id, ok := a.queue.Get(ctx)
		if !ok {
			return
		}
		a.goFunc(func() { a.workOn(ctx, id) })
	}
}

// workOn applies the actions last planned for job id, in order, stopping at the first that
// fails. A failure backs the job off (plan turns its actions into a wait until retryAt, the
// delay doubling with each failure in a row, from the restart delay up to the resync
// interval); a start that fails has its own back-off (StartBackoff). Either way another
// pass is asked for when done.
func (a *Agent) workOn(ctx context.Context, id model.JobID) {
	a.mu.Lock()
	t := a.taskLocked(id)
	run, d, rep, used := t.planned, t.plannedFor, t.plannedRep, t.plannedUsed
	t.planned, t.plannedUsed = nil, nil
	t.busy = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		t.busy = false
		a.mu.Unlock()
		a.queue.Done(id)
		a.wakes.job(id)
	}()
	for _, act := range run {
		a.log.Info("apply", zap.String("job-id", string(id)), zap.String("action", string(act.Kind)),
			zap.String("container-id", short(act.ContainerID)), zap.String("reason", string(act.Reason)), zap.String("detail", act.Error))
		err := a.apply(ctx, act, d, rep, used)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		a.mu.Lock()
		t.failures++
		retry := backoff(t.failures, a.cfg.RestartDelay, max(a.cfg.ResyncInterval, a.cfg.RestartDelay))
		if act.Kind != actStart {
			t.retryAt = time.Now().Add(retry)
		}
		n := t.failures
		a.mu.Unlock()
		a.log.Error("action failed", zap.String("job-id", string(id)), zap.String("action", string(act.Kind)),
			zap.Int("failures-in-a-row", n), zap.Error(err))
		return
	}
	a.mu.Lock()
	t.failures, t.retryAt = 0, time.Time{}
	a.mu.Unlock()
}

// passFailed records a pass that could not read desired or actual state and returns how
// long until the next try: the delay doubles with each failure in a row, from the restart
// delay up to the resync interval. Only the first failure of a row is a warning.
func (a *Agent) passFailed(what string, err error) time.Duration {
	a.m.reconciles.WithLabelValues("error").Inc()
	a.passFailures++
	retry := backoff(a.passFailures, a.cfg.RestartDelay, max(a.cfg.ResyncInterval, a.cfg.RestartDelay))
	log := a.log.Debug
	if a.passFailures == 1 {
		log = a.log.Warn
	}
	log(what, zap.Int("failures-in-a-row", a.passFailures), zap.Duration("retry-in", retry), zap.Error(err))
	return retry
}

// passSucceeded ends a row of failed passes.
func (a *Agent) passSucceeded() {
	if a.passFailures > 0 {
		a.log.Info("reconcile passes work again", zap.Int("failed-passes", a.passFailures))
		a.passFailures = 0
	}
}
