package store

import (
	"context"
	"fmt"
	"time"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// SetTaskStatus records the agent's view of a task and, when recordEvent is set, appends it
// to the job's history on the host, in one transaction. The history is then trimmed to the
// newest HistoryLimit events of that job and host.
func (s *Store) SetTaskStatus(ctx context.Context, host string, id model.JobID, st model.TaskStatus, recordEvent bool) error {
	if err := ValidName("host", host); err != nil {
		return err
	}
	if err := ValidName("job id", string(id)); err != nil {
		return err
	}
	val, err := encode(st)
	if err != nil {
		return err
	}
	statusKey := s.keys.TaskStatus(host, id)
	if !recordEvent {
		return s.put(ctx, "set-task-status", statusKey, val)
	}
	now := time.Now()
	ev, err := encode(model.TaskStatusEvent{Status: st, Timestamp: now.UnixMilli(), Host: host})
	if err != nil {
		return err
	}
	// Two events in one nanosecond would share a key: the compare makes the second one
	// move to the next free nanosecond instead of overwriting the first.
	for ns := now.UnixNano(); ; ns++ {
		if ns-now.UnixNano() >= casAttempts*100 {
			return fmt.Errorf("history of %s on %s: no free event key near %d: %w", id, host, now.UnixNano(), ErrConflict)
		}
		evKey := s.keys.HistoryEvent(id, host, ns)
		resp, err := s.txn(ctx, "set-task-status",
			[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(evKey), "=", 0)},
			[]clientv3.Op{clientv3.OpPut(statusKey, val), clientv3.OpPut(evKey, ev)})
		if err != nil {
			return err
		}
		if resp.Succeeded {
			break
		}
	}
	return s.trimHistory(ctx, host, id)
}

// trimHistory deletes all but the newest HistoryLimit events of a job on a host with one
// range delete: keys sort by time, so the old ones are [prefix, oldest kept).
func (s *Store) trimHistory(ctx context.Context, host string, id model.JobID) error {
	prefix := s.keys.HostHistory(id, host)
	resp, err := s.get(ctx, "trim-history", prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(int64(s.cfg.HistoryLimit)))
	if err != nil {
		return err
	}
	if resp.Count <= int64(s.cfg.HistoryLimit) || len(resp.Kvs) == 0 {
		return nil
	}
	oldestKept := string(resp.Kvs[len(resp.Kvs)-1].Key)
	return s.call(ctx, "trim-history", func(ctx context.Context) error {
		_, err := s.cli.Delete(ctx, prefix, clientv3.WithRange(oldestKept))
		return err
	})
}

// DeleteTaskStatus forgets a task's status, once the agent removed its container.
func (s *Store) DeleteTaskStatus(ctx context.Context, host string, id model.JobID) error {
	if err := ValidName("host", host); err != nil {
		return err
	}
	if err := ValidName("job id", string(id)); err != nil {
		return err
	}
	return s.call(ctx, "delete-task-status", func(ctx context.Context) error {
		_, err := s.cli.Delete(ctx, s.keys.TaskStatus(host, id))
		return err
	})
}

// TaskStatuses reads the statuses the host's agent last reported, by job.
func (s *Store) TaskStatuses(ctx context.Context, host string) (map[model.JobID]model.TaskStatus, error) {
	if err := ValidName("host", host); err != nil {
		return nil, err
	}
	resp, err := s.get(ctx, "task-statuses", s.keys.TaskStatuses(host), clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	out := make(map[model.JobID]model.TaskStatus, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var ts model.TaskStatus
		if err := decode(string(kv.Key), kv.Value, &ts); err != nil {
			s.skipBad(err)
			continue
		}
		out[model.JobID(Base(string(kv.Key)))] = ts
	}
	return out, nil
}
