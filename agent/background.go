package agent

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// The loop (agent.go) never calls etcd itself: a call to a stalled etcd waits out
// --etcd-timeout, and a loop waiting on it would hold up the restart of a container that
// died meanwhile (issue 13 measured 8 s for a 1 s restart delay). What the loop needs of
// etcd runs here, one of each kind at a time, and wakes the loop when done.

// kickFlush writes the queued status writes in the background unless a flush runs
// already; when it stops short (etcd still away), it wakes the oldest queued job after a
// back-off, whose pass kicks it again.
func (a *Agent) kickFlush(ctx context.Context) {
	a.mu.Lock()
	if len(a.pending) == 0 || a.flushing {
		a.mu.Unlock()
		return
	}
	a.flushing = true
	a.mu.Unlock()
	a.goFunc(func() {
		ok := a.flush(ctx) // flushFailures is only touched here, one flush at a time
		retryIn := backoff(a.flushFailures, a.cfg.RestartDelay, a.cfg.ResyncInterval)
		a.mu.Lock()
		a.flushing = false
		a.mu.Unlock()
		if ok {
			return
		}
		if job := a.firstPending(); job != "" {
			a.wakes.jobAfter(job, retryIn)
			a.wakes.signal()
		}
	})
}

// startResync runs the resync's etcd work in the background, unless the previous one is
// still at it (etcd slow): the host info, then, once joined, reassert, a re-list of the
// deployments and the trimming of histories. When done it asks for a pass over
// everything and marks the resync done; the loop counts it after that pass.
func (a *Agent) startResync(ctx context.Context, id string, joined bool) {
	if !a.resyncing.CompareAndSwap(false, true) {
		return
	}
	a.goFunc(func() {
		defer a.resyncing.Store(false)
		a.refreshHostInfo(ctx, false)
		if joined && a.reassert(ctx, id) {
			a.relist(ctx)
			a.trimHistories(ctx)
			a.report.resync() // the pass asked for below checks the report too
		}
		if ctx.Err() != nil {
			return
		}
		a.wakes.everything()
		a.resyncDone.Store(true)
		a.wakes.signal()
	})
}

// kickRestoreReport brings etcd's report in line with the wanted one in the background,
// unless the writer runs already or backs off after a failure: the next pass after the
// back-off tries again (a resync brings a pass at least every --resync-interval).
func (a *Agent) kickRestoreReport(ctx context.Context) {
	r := &a.report
	r.mu.Lock()
	if r.writing || (r.known && sameReport(r.wanted, r.written)) || time.Now().Before(r.retryAt) {
		r.mu.Unlock()
		return
	}
	r.writing = true
	r.mu.Unlock()
	a.goFunc(func() {
		err := a.writeRestoreReport(ctx)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err == nil {
			r.failures = 0
			return
		}
		r.writing = false
		a.m.etcdErrors.Inc()
		if r.failures++; r.failures == 1 && ctx.Err() == nil {
			a.log.Warn("report of the suspected restore waits for etcd", zap.Error(err)) // once per outage
		}
		r.retryAt = time.Now().Add(backoff(r.failures, a.cfg.RestartDelay, a.cfg.ResyncInterval))
	})
}
