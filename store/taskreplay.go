package store

import (
	"context"
	"fmt"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// SetTaskStatusesOnce is SetTaskStatuses for statuses that may be in etcd already: an agent
// replaying its outage queue cannot tell whether it died before or after a write it had
// queued. Statuses are written in order, so the last event found at its key (its exact
// time, holding the same event) and every one before it are in etcd already, or were
// trimmed from the history since: only those after it are written, as SetTaskStatuses
// does. When the last one is there, nothing is written: the task status went in with it.
func (s *Store) SetTaskStatusesOnce(ctx context.Context, host string, id model.JobID, sts []StatusAt) error {
	if err := ValidName("host", host); err != nil {
		return err
	}
	if err := ValidName("job id", string(id)); err != nil {
		return err
	}
	// The keys SetTaskStatuses gives the events when none clashes.
	gets := make([]clientv3.Op, len(sts))
	prev := int64(0)
	for i, st := range sts {
		ns := max(st.At.UnixNano(), prev+1)
		prev = ns
		gets[i] = clientv3.OpGet(s.keys.HistoryEvent(id, host, ns))
	}
	resps, _, err := s.read(ctx, "get-task-events", gets...)
	if err != nil {
		return err
	}
	written := 0
	for i, st := range sts {
		want, err := encode(model.TaskStatusEvent{Status: st.Status, Timestamp: st.At.UnixMilli(), Host: host})
		if err != nil {
			return err
		}
		if kvs := resps[i].Kvs; len(kvs) == 1 && string(kvs[0].Value) == want {
			written = i + 1
		}
	}
	missing := sts[written:]
	if len(missing) == 0 {
		return nil
	}
	if err := s.SetTaskStatuses(ctx, host, id, missing); err != nil {
		return fmt.Errorf("replay %d of %d statuses: %w", len(missing), len(sts), err)
	}
	return nil
}
