package agent

import (
	"context"
	"errors"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// reassert makes etcd hold again what this agent has told it, when etcd has lost it: after
// a restore from an older backup, or keys deleted by hand. The loop only writes a status
// when the task changes, so without this a lost status would stay lost. Run at each resync
// (not every pass): it costs two reads of this host's own keys.
//
// A host missing from etcd is registered again, with its labels, environment and info (to
// take a live host out of Helios, stop its agent first, then deregister it). A task status
// missing or different in etcd is forgotten locally, so the next pass reports it again.
// It returns false when etcd did not answer (the resync's other etcd work is skipped then).
func (a *Agent) reassert(ctx context.Context, id string) bool {
	a.mu.Lock()
	queued := len(a.pending) > 0
	snap := a.snapshotLocked()
	before, busy := snap.reported, snap.busy
	a.mu.Unlock()
	if queued {
		return false // etcd is behind on purpose: the queue is flushed first
	}

	if _, err := a.cfg.Store.HostID(ctx, a.cfg.Name); errors.Is(err, store.ErrHostNotFound) {
		a.log.Warn("host missing from etcd; registering again", zap.String("host-id", id))
		if err := a.cfg.Store.RegisterHost(ctx, a.cfg.Name, id); err != nil {
			a.log.Warn("register again", zap.Error(err))
			return false
		}
		if err := a.cfg.Store.PutHostLabels(ctx, a.cfg.Name, nonNil(a.cfg.Labels)); err != nil {
			a.log.Warn("write host labels", zap.Error(err))
		}
		if err := a.cfg.Store.PutHostEnvironment(ctx, a.cfg.Name, nonNil(a.cfg.Defaults.Env)); err != nil {
			a.log.Warn("write host environment", zap.Error(err))
		}
		a.refreshHostInfo(ctx, true)
	} else if err != nil {
		return false // etcd unreachable: nothing to compare with
	}

	inEtcd, err := a.cfg.Store.TaskStatuses(ctx, a.cfg.Name)
	if err != nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var forgot []model.JobID
	for job, mine := range before {
		theirs, ok := inEtcd[job]
		t := a.tasks[job]
		if t == nil || busy[job] || t.busy || t.writing || len(t.outbox) > 0 || t.reported == nil || !sameStatus(*t.reported, mine) {
			continue // a worker or the task's writer is at it, or it changed since the snapshot
		}
		if !ok || !sameStatus(theirs, mine) {
			t.reported = nil
			forgot = append(forgot, job)
		}
	}
	if len(forgot) > 0 {
		a.log.Warn("task statuses missing or stale in etcd; reporting them again", zap.Int("tasks", len(forgot)))
		for _, job := range forgot {
			a.wakes.job(job)
		}
	}
	return true
}

// sameStatus compares what the plan compares.
func sameStatus(x, y model.TaskStatus) bool {
	return x.State == y.State && x.ContainerID == y.ContainerID && x.Goal == y.Goal && x.Throttled == y.Throttled
}
