package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

// Losing etcd never stops the agent's work: it reconciles from the last deployments it
// read (kept in memory and in the state dir), and the task statuses it writes meanwhile
// are queued, in order, and written — history events included — once etcd answers again.

// maxPendingPerTask bounds each task's share of the queue: its oldest writes go first (the
// latest status of every task is what matters, and history keeps only the last 30 events
// per task by default). A task's whole queue fits one transaction (maxBatch).
const maxPendingPerTask = maxBatch

// pendingOp is one queued status write or deletion.
type pendingOp struct {
	job    model.JobID
	status model.TaskStatus
	at     time.Time // when the status was set (its history event's time)
	delete bool
	seq    uint64 // its place in the queue, so flush removes what it wrote even if ops were dropped meanwhile
}

// enqueueLocked queues op, dropping the task's oldest op beyond maxPendingPerTask. The
// caller saves the queue (savePending) once it has released mu. Callers hold mu.
func (a *Agent) enqueueLocked(op pendingOp) {
	a.pendingSeq++
	op.seq = a.pendingSeq
	a.pending = append(a.pending, op)
	a.pendingGen++
	n, oldest := 0, -1
	for i, p := range a.pending {
		if p.job == op.job {
			if n++; oldest < 0 {
				oldest = i
			}
		}
	}
	if n <= maxPendingPerTask {
		return
	}
	a.pending = slices.Delete(a.pending, oldest, oldest+1)
	if a.pendingDropped == nil {
		a.pendingDropped = map[model.JobID]int{}
	}
	if a.pendingDropped[op.job]++; a.pendingDropped[op.job] == 1 { // once per task and outage; the total when the queue is written
		a.log.Warn("status writes queued for etcd exceed the limit: dropping the oldest of the task",
			zap.String("job-id", string(op.job)), zap.Int("limit", maxPendingPerTask))
	}
}

// loadPendingQueue takes up the queue a previous agent left in the state dir: it is
// written before anything this agent queues, this agent's statuses are timed after it, and
// each task's last queued status counts as reported (a container found as it says is not
// reported again).
func (a *Agent) loadPendingQueue() {
	ops, err := loadPending(a.cfg.StateDir)
	if err != nil {
		a.log.Warn("status writes queued by the previous agent unreadable; lost", zap.Error(err))
		return
	}
	if len(ops) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, op := range ops {
		a.pendingSeq++
		op.seq = a.pendingSeq
		a.pending = append(a.pending, op)
		t := a.taskLocked(op.job)
		if op.at.After(t.lastStatusAt) {
			t.lastStatusAt = op.at
		}
		if op.delete {
			t.reported = nil
		} else {
			st := op.status
			t.reported = &st
		}
	}
	a.log.Info("status writes queued by the previous agent are written first", zap.Int("writes", len(ops)))
}

// firstPending is the job of the oldest queued write ("" when none): waking it retries
// the queue.
func (a *Agent) firstPending() model.JobID {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.pending) == 0 {
		return ""
	}
	return a.pending[0].job
}

// flush writes queued operations in order, one task's leading run at a time, until one
// fails. It reports whether the queue is empty. The file in the state dir is rewritten
// when it stops, not after each write: a write replayed after a crash is skipped.
func (a *Agent) flush(ctx context.Context) bool {
	defer a.savePending()
	for {
		a.mu.Lock()
		if len(a.pending) == 0 {
			a.mu.Unlock()
			return true
		}
		q := a.pending
		batch := takeBatch(&q)
		a.mu.Unlock()
		if err := a.do(ctx, batch, true); err != nil {
			a.m.etcdErrors.Inc()
			if a.flushFailures++; a.flushFailures == 1 && ctx.Err() == nil {
				a.log.Warn("queued status writes wait for etcd", zap.Error(err)) // once per outage
			}
			return false
		}
		a.mu.Lock()
		done := map[uint64]bool{}
		for _, op := range batch {
			done[op.seq] = true
		}
		a.pending = slices.DeleteFunc(a.pending, func(op pendingOp) bool { return done[op.seq] })
		a.pendingGen++
		if len(a.pending) == 0 {
			dropped := 0
			for _, n := range a.pendingDropped {
				dropped += n
			}
			a.pendingDropped = nil
			a.log.Info("queued status writes done", zap.Int("failed-tries", a.flushFailures), zap.Int("dropped", dropped))
			a.flushFailures = 0
		}
		a.mu.Unlock()
	}
}

// diskState is what the state dir keeps of etcd: the host's deployments and their jobs.
type diskState struct {
	Deployments map[model.JobID]model.Deployment `json:"deployments"`
	Jobs        map[model.JobID]model.Job        `json:"jobs"`
}

const desiredFile = "deployments.json"

// saveDesiredSoon hands the deployments read from etcd to the state dir's writer and
// returns at once: the write (an encode, a file and a rename) is kept off the path from a
// deployment landing to its container starting. Writes coalesce: deployments that arrive
// while one is being written replace any not yet written, and only the newest goes next.
func (a *Agent) saveDesiredSoon(deps map[model.JobID]model.Deployment, jobs map[model.JobID]model.Job) {
	a.mu.Lock()
	a.desiredNext = &diskState{Deployments: deps, Jobs: jobs}
	start := !a.desiredSaving
	a.desiredSaving = true
	a.mu.Unlock()
	if start {
		a.goFunc(a.saveDesiredLoop)
	}
}

// saveDesiredLoop writes the newest deployments handed over until none is left.
func (a *Agent) saveDesiredLoop() {
	for {
		a.mu.Lock()
		next := a.desiredNext
		a.desiredNext = nil
		if next == nil {
			a.desiredSaving = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		a.saveDesired(next.Deployments, next.Jobs)
	}
}

// saveDesired writes the deployments read from etcd to the state dir when they changed.
func (a *Agent) saveDesired(deps map[model.JobID]model.Deployment, jobs map[model.JobID]model.Job) {
	b, err := json.Marshal(diskState{Deployments: deps, Jobs: jobs})
	if err != nil {
		a.log.Warn("encode deployments for the state dir", zap.Error(err))
		return
	}
	a.mu.Lock()
	same := string(b) == a.savedDesired
	a.mu.Unlock()
	if same {
		return
	}
	p := filepath.Join(a.cfg.StateDir, desiredFile)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		a.log.Warn("write deployments to the state dir", zap.Error(err))
		return
	}
	if err := os.Rename(tmp, p); err != nil {
		a.log.Warn("write deployments to the state dir", zap.Error(err))
		return
	}
	a.mu.Lock()
	a.savedDesired = string(b)
	a.mu.Unlock()
}

// loadDesired reads the deployments kept in the state dir; nil when there are none.
func loadDesired(dir string) (map[model.JobID]model.Deployment, map[model.JobID]model.Job, error) {
	b, err := os.ReadFile(filepath.Join(dir, desiredFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", desiredFile, err)
	}
	var ds diskState
	if err := json.Unmarshal(b, &ds); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", desiredFile, err)
	}
	return ds.Deployments, ds.Jobs, nil
}
