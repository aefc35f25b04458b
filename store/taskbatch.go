package store

import (
	"context"
	"fmt"
	"time"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// StatusAt is one status of a task with the time the agent set it.
type StatusAt struct {
	Status model.TaskStatus
	At     time.Time
}

// SetTaskStatuses writes a task's successive statuses in one transaction: the last becomes
// the task status and every one a history event, keyed by its time, in order (each key at
// least a nanosecond after the one before). It does not trim the history: an agent calls
// TrimTaskHistory off its hot path. sts must not be empty; etcd's 128 operations per
// transaction bound a batch to 127 statuses.
func (s *Store) SetTaskStatuses(ctx context.Context, host string, id model.JobID, sts []StatusAt) error {
	if err := ValidName("host", host); err != nil {
		return err
	}
	if err := ValidName("job id", string(id)); err != nil {
		return err
	}
	if len(sts) == 0 || len(sts) > 127 {
		return fmt.Errorf("status batch of %s on %s: %d statuses, want 1 to 127", id, host, len(sts))
	}
	val, err := encode(sts[len(sts)-1].Status)
	if err != nil {
		return err
	}
	evs := make([]string, len(sts))
	for i, st := range sts {
		if evs[i], err = encode(model.TaskStatusEvent{Status: st.Status, Timestamp: st.At.UnixMilli(), Host: host}); err != nil {
			return err
		}
	}
	// Two events in one nanosecond would share a key: the compares make a batch that meets
	// an existing key move on by a nanosecond instead of overwriting it.
	for shift := int64(0); shift < casAttempts; shift++ {
		var cmps []clientv3.Cmp
		ops := []clientv3.Op{clientv3.OpPut(s.keys.TaskStatus(host, id), val)}
		prev := int64(0)
		for i, st := range sts {
			ns := max(st.At.UnixNano()+shift, prev+1)
			prev = ns
			k := s.keys.HistoryEvent(id, host, ns)
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(k), "=", 0))
			ops = append(ops, clientv3.OpPut(k, evs[i]))
		}
		resp, err := s.txn(ctx, "set-task-statuses", cmps, ops)
		if err != nil {
			return err
		}
		if resp.Succeeded {
			return nil
		}
	}
	return fmt.Errorf("history of %s on %s: no free event keys near %d: %w", id, host, sts[0].At.UnixNano(), ErrConflict)
}

// TrimTaskHistory deletes all but the newest HistoryLimit events of a job on a host.
func (s *Store) TrimTaskHistory(ctx context.Context, host string, id model.JobID) error {
	if err := ValidName("host", host); err != nil {
		return err
	}
	if err := ValidName("job id", string(id)); err != nil {
		return err
	}
	return s.trimHistory(ctx, host, id)
}
