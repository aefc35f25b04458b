package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// The outage queue (outage.go) is kept in the state dir as well as in memory, so an agent
// killed while etcd is unreachable loses none of the status changes it had queued: its
// successor loads them at start and writes them first, in order. The file is rewritten
// (atomically: a temporary file renamed over it) each time a write is queued; while the
// queue drains it is rewritten only when the flush stops, because a replayed write is
// harmless: flush writes with SetTaskStatusesOnce, which skips history events already in
// etcd (an agent that died after a write but before rewriting the file).

const pendingFile = "pending.json"

// pendingDisk is the file's content.
type pendingDisk struct {
	Ops []pendingOpDisk `json:"ops"`
}

type pendingOpDisk struct {
	Job    model.JobID      `json:"job"`
	Status model.TaskStatus `json:"status"`
	At     time.Time        `json:"at"` // nanoseconds kept: it is the history event's key
	Delete bool             `json:"delete,omitempty"`
}

// savePending writes the queue to the state dir if it changed since the last save. Saves
// are serialised by fileMu, each writing the newest queue, so an older one never lands last.
func (a *Agent) savePending() {
	a.pendingFileMu.Lock()
	defer a.pendingFileMu.Unlock()
	a.mu.Lock()
	gen := a.pendingGen
	if gen == a.pendingSavedGen {
		a.mu.Unlock()
		return
	}
	disk := pendingDisk{Ops: make([]pendingOpDisk, len(a.pending))}
	for i, op := range a.pending {
		disk.Ops[i] = pendingOpDisk{Job: op.job, Status: op.status, At: op.at, Delete: op.delete}
	}
	a.mu.Unlock()
	if err := writePending(a.cfg.StateDir, disk); err != nil {
		a.log.Warn("keep queued status writes in the state dir", zap.Error(err))
		return
	}
	a.mu.Lock()
	a.pendingSavedGen = gen
	a.mu.Unlock()
}

// writePending replaces the file, or removes it when the queue is empty.
func writePending(dir string, disk pendingDisk) error {
	p := filepath.Join(dir, pendingFile)
	if len(disk.Ops) == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", pendingFile, err)
		}
		return nil
	}
	b, err := json.Marshal(disk)
	if err != nil {
		return fmt.Errorf("encode %s: %w", pendingFile, err)
	}
	tmp := p + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", pendingFile, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync() // the queue exists for crashes: make it outlive one of the host too
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", pendingFile, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("write %s: %w", pendingFile, err)
	}
	return nil
}

// loadPending reads the queue kept in the state dir; nil when there is none.
func loadPending(dir string) ([]pendingOp, error) {
	b, err := os.ReadFile(filepath.Join(dir, pendingFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", pendingFile, err)
	}
	ops, err := parsePending(b)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", pendingFile, err)
	}
	return ops, nil
}

// parsePending decodes the file's content, refusing an op that could not be written.
func parsePending(b []byte) ([]pendingOp, error) {
	var disk pendingDisk
	if err := json.Unmarshal(b, &disk); err != nil {
		return nil, err
	}
	ops := make([]pendingOp, 0, len(disk.Ops))
	for i, o := range disk.Ops {
		if err := store.ValidName("job id", string(o.Job)); err != nil {
			return nil, fmt.Errorf("queued write %d: %w", i, err)
		}
		if !o.Delete && (o.Status.State == "" || o.At.IsZero()) {
			return nil, fmt.Errorf("queued write %d of %s: no state or no time", i, o.Job)
		}
		ops = append(ops, pendingOp{job: o.Job, status: o.Status, at: o.At, delete: o.Delete})
	}
	return ops, nil
}
