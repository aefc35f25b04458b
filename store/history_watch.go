package store

import (
	"context"
	"strings"

	"github.com/helios-go/helios/model"
)

// HistoryRecord is one stored task status event of a job, as a watch of the job's history
// delivers it.
type HistoryRecord struct {
	Host string
	// Seq orders one host's records: a later event has a greater Seq. It is opaque.
	Seq   string
	Event model.TaskStatusEvent
	Err   error // the stored value did not decode; Event is empty
}

// WatchJobHistory lists the job's history and calls onReset with every record (again after
// any re-list: see WatchPrefix), then calls onEvents with each batch of new records. The
// deletes that trim or remove history are not delivered. It returns ctx.Err() once ctx ends.
func (s *Store) WatchJobHistory(ctx context.Context, id model.JobID, onReset func([]HistoryRecord), onEvents func([]HistoryRecord)) error {
	if err := ValidName("job id", string(id)); err != nil {
		return err
	}
	prefix := s.keys.History(id)
	return s.WatchPrefix(ctx, prefix,
		func(kvs []KV, _ int64) {
			out := make([]HistoryRecord, 0, len(kvs))
			for _, kv := range kvs {
				if r, ok := historyRecord(prefix, kv.Key, kv.Value); ok {
					out = append(out, r)
				}
			}
			onReset(out)
		},
		func(evs []Event) {
			var out []HistoryRecord
			for _, ev := range evs {
				if ev.Type != EventPut {
					continue
				}
				if r, ok := historyRecord(prefix, ev.Key, ev.Value); ok {
					out = append(out, r)
				}
			}
			if len(out) > 0 {
				onEvents(out)
			}
		})
}

// historyRecord reads one key <prefix><host>/<20-digit ns>; ok is false for a key of
// another shape.
func historyRecord(prefix, key string, value []byte) (HistoryRecord, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return HistoryRecord{}, false
	}
	host, seq, ok := strings.Cut(rest, "/")
	if !ok || host == "" || seq == "" || strings.Contains(seq, "/") {
		return HistoryRecord{}, false
	}
	r := HistoryRecord{Host: host, Seq: seq}
	r.Err = decode(key, value, &r.Event)
	return r, true
}
