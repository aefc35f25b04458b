package agent

import (
	"context"
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
		}
		if ctx.Err() != nil {
			return
		}
		a.wakes.everything()
		a.resyncDone.Store(true)
		a.wakes.signal()
	})
}
