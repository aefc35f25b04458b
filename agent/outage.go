package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

// Losing etcd never stops the agent's work: it reconciles from the last deployments it
// read (kept in memory and in the state dir), and the task statuses it writes meanwhile
// are queued, in order, and written — history events included — once etcd answers again.

// maxPending bounds the queue; the oldest writes go first (the latest status of every
// task is what matters; history keeps only the last 30 events per task anyway).
const maxPending = 1000

// pendingOp is one queued status write or deletion.
type pendingOp struct {
	job    model.JobID
	status model.TaskStatus
	at     time.Time // when the status was set (its history event's time)
	delete bool
}

func (a *Agent) enqueueLocked(op pendingOp) {
	a.pending = append(a.pending, op)
	if len(a.pending) > maxPending {
		a.pending = a.pending[len(a.pending)-maxPending:]
	}
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

// flush writes queued operations in order until one fails. It reports whether the queue
// is empty.
func (a *Agent) flush(ctx context.Context) bool {
	for {
		a.mu.Lock()
		if len(a.pending) == 0 {
			a.mu.Unlock()
			return true
		}
		op := a.pending[0]
		a.mu.Unlock()
		if err := a.do(ctx, []pendingOp{op}); err != nil {
			a.m.etcdErrors.Inc()
			if a.flushFailures++; a.flushFailures == 1 && ctx.Err() == nil {
				a.log.Warn("queued status writes wait for etcd", zap.Error(err)) // once per outage
			}
			return false
		}
		a.mu.Lock()
		a.pending = a.pending[1:]
		if len(a.pending) == 0 {
			a.log.Info("queued status writes done", zap.Int("failed-tries", a.flushFailures))
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
