package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// Status writes are off the critical path of a start: setStatus records the status as the
// task's reported one at once (plan compares against it) and hands it to the task's writer,
// so create and start never wait for etcd. Each task has at most one writer goroutine at a
// time, which writes the task's statuses in the order they were set; statuses that queue
// up while a write is under way go together in the next transaction (every one still a
// history event). History is trimmed at resync, not after each write.

// maxBatch is the most statuses one transaction carries (etcd allows 128 operations).
const maxBatch = 100

// setStatus makes st the task's status and queues its write (with its history event).
func (a *Agent) setStatus(_ context.Context, id model.JobID, st model.TaskStatus) error {
	a.log.Info("task status", zap.String("job-id", string(id)), zap.String("state", string(st.State)), zap.String("container-id", short(st.ContainerID)))
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.taskLocked(id)
	t.reported = &st
	a.enqueueWriteLocked(t, pendingOp{job: id, status: st, at: a.statusTimeLocked(t)})
	return nil
}

// deleteStatus queues the deletion of the task's status, after its queued writes.
func (a *Agent) deleteStatus(_ context.Context, id model.JobID) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.taskLocked(id)
	a.forgetReportedLocked(id)
	a.enqueueWriteLocked(t, pendingOp{job: id, delete: true})
	return nil
}

// statusTimeLocked is now, or a nanosecond after the task's last status if the clock has
// not moved on: history events sort by time. Callers hold mu.
func (a *Agent) statusTimeLocked(t *task) time.Time {
	now := time.Now()
	if !now.After(t.lastStatusAt) {
		now = t.lastStatusAt.Add(time.Nanosecond)
	}
	t.lastStatusAt = now
	return now
}

// enqueueWriteLocked queues op for the task's writer, starting one if none runs. Callers
// hold mu.
func (a *Agent) enqueueWriteLocked(t *task, op pendingOp) {
	t.outbox = append(t.outbox, op)
	if t.writing {
		return
	}
	t.writing = true
	a.goFunc(func() { a.writeOut(t, op.job) })
}

// writeOut writes the task's queued statuses until none is left.
func (a *Agent) writeOut(t *task, id model.JobID) {
	ctx := a.writeCtx
	for {
		a.mu.Lock()
		batch := takeBatch(&t.outbox)
		if len(batch) == 0 {
			t.writing = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		err := a.writeBatch(ctx, batch)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return // the agent stops; its successor reports what it finds
		}
		a.m.etcdErrors.Inc()
		a.log.Error("write task status", zap.String("job-id", string(id)), zap.Error(err))
		// What etcd holds is unknown now: forget what was reported so the next pass of the
		// job reports its state again.
		a.mu.Lock()
		if len(t.outbox) == 0 {
			t.reported = nil
		}
		a.mu.Unlock()
		a.wakes.jobAfter(id, a.cfg.RestartDelay)
	}
}

// takeBatch removes from q its leading statuses (up to maxBatch), or a leading deletion.
func takeBatch(q *[]pendingOp) []pendingOp {
	ops := *q
	n := 0
	switch {
	case len(ops) == 0:
	case ops[0].delete:
		n = 1
	default:
		for n < len(ops) && n < maxBatch && !ops[n].delete {
			n++
		}
	}
	batch := append([]pendingOp(nil), ops[:n]...)
	*q = ops[n:]
	return batch
}

// writeBatch writes one batch, or queues it behind earlier writes waiting for etcd (or
// when etcd is unreachable now; see outage.go).
func (a *Agent) writeBatch(ctx context.Context, batch []pendingOp) error {
	a.mu.Lock()
	queued := len(a.pending) > 0
	if queued {
		for _, op := range batch {
			a.enqueueLocked(op)
		}
	}
	a.mu.Unlock()
	if queued {
		a.savePending()
		return nil
	}
	err := a.do(ctx, batch, false)
	if err == nil || ctx.Err() != nil || !errors.Is(err, store.ErrUnavailable) {
		return err
	}
	a.m.etcdErrors.Inc()
	a.log.Warn("etcd unavailable: status write queued", zap.String("job-id", string(batch[0].job)), zap.Error(err))
	a.mu.Lock()
	for _, op := range batch {
		a.enqueueLocked(op)
	}
	a.mu.Unlock()
	a.savePending()
	// A pass kicks the flush of the queue; ask for one, even if nothing else happens.
	a.wakes.jobAfter(batch[0].job, a.cfg.RestartDelay)
	a.wakes.signal()
	return nil
}

// do writes a batch of one task's statuses (one transaction), or one deletion.
// Queued writes (replay) may be in etcd already (see outagequeue.go): they are written with
// SetTaskStatusesOnce, which skips events already there.
func (a *Agent) do(ctx context.Context, batch []pendingOp, replay bool) error {
	id := batch[0].job
	if batch[0].delete {
		if err := a.cfg.Store.DeleteTaskStatus(ctx, a.cfg.Name, id); err != nil {
			return fmt.Errorf("delete status of %s: %w", id, err)
		}
		return nil
	}
	sts := make([]store.StatusAt, len(batch))
	for i, op := range batch {
		sts[i] = store.StatusAt{Status: op.status, At: op.at}
	}
	set := a.cfg.Store.SetTaskStatuses
	if replay {
		set = a.cfg.Store.SetTaskStatusesOnce
	}
	if err := set(ctx, a.cfg.Name, id, sts); err != nil {
		return fmt.Errorf("set status %s of %s: %w", batch[len(batch)-1].status.State, id, err)
	}
	a.mu.Lock()
	a.taskLocked(id).untrimmed = true
	a.mu.Unlock()
	return nil
}

// trimHistories trims the history of every task written to since the last resync.
func (a *Agent) trimHistories(ctx context.Context) {
	a.mu.Lock()
	var ids []model.JobID
	for id, t := range a.tasks {
		if t.untrimmed {
			t.untrimmed = false
			ids = append(ids, id)
		}
	}
	a.mu.Unlock()
	for _, id := range ids {
		if err := a.cfg.Store.TrimTaskHistory(ctx, a.cfg.Name, id); err != nil {
			a.m.etcdErrors.Inc()
			a.log.Debug("trim task history", zap.String("job-id", string(id)), zap.Error(err))
		}
	}
}
