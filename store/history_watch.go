package store

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// HistoryRecord is one stored task status event of a job, as a watch of the job's history
// delivers it.
type HistoryRecord struct {
	Host string
	// Seq orders one host's records: a later event has a greater Seq. It is opaque. An
	// event has the same Seq in the legacy and the per-host layout, so a record moved by
	// MigrateHistory is recognised as the one already seen.
	Seq   string
	Event model.TaskStatusEvent
	Err   error // the stored value did not decode; Event is empty
}

// WatchJobHistory lists the job's history (both layouts, see jobHistory) and calls onReset
// with every record (again after any re-list, as WatchPrefix does), then calls onEvents with
// each batch of new records. The deletes that trim, move or remove history are not
// delivered; a record moved from the legacy layout arrives again with the same Host and Seq.
// It returns ctx.Err() once ctx ends.
//
// The per-host layout has no prefix per job, so the watch covers every host's history and
// drops other jobs' events here: that costs etcd traffic per stream, which the API's cap
// on watch streams bounds.
func (s *Store) WatchJobHistory(ctx context.Context, id model.JobID, onReset func([]HistoryRecord), onEvents func([]HistoryRecord)) error {
	if err := ValidName("job id", string(id)); err != nil {
		return err
	}
	backoff := watchBackoffMin
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		recs, rev, err := s.jobHistory(ctx, id)
		if err == nil {
			onReset(recs)
			var delivered bool
			delivered, err = s.watchJobHistoryFrom(ctx, id, rev+1, onEvents)
			if delivered {
				backoff = watchBackoffMin
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Info("history watch broke, listing again", zap.String("job-id", string(id)), zap.Duration("backoff", backoff), zap.Error(err))
		if !sleep(ctx, backoff) {
			return ctx.Err()
		}
		backoff = min(2*backoff, watchBackoffMax)
	}
}

// watchJobHistoryFrom watches both layouts from rev until either watch fails, and delivers
// the job's new records one batch at a time.
func (s *Store) watchJobHistoryFrom(ctx context.Context, id model.JobID, rev int64, onEvents func([]HistoryRecord)) (bool, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex // callbacks run one at a time, as WatchPrefix promises its callers
	deliver := func(evs []Event) {
		var out []HistoryRecord
		for _, ev := range evs {
			if ev.Type != EventPut {
				continue
			}
			if r, ok := s.historyRecord(id, ev.Key, ev.Value); ok {
				out = append(out, r)
			}
		}
		if len(out) > 0 {
			mu.Lock()
			defer mu.Unlock()
			onEvents(out)
		}
	}
	type result struct {
		delivered bool
		err       error
	}
	results := make(chan result, 2)
	for _, prefix := range []string{s.keys.LegacyHistory(id), s.keys.HostHistories()} {
		go func() {
			d, err := s.watchFrom(wctx, prefix, rev, deliver)
			results <- result{d, err}
		}()
	}
	first := <-results
	cancel()
	second := <-results
	return first.delivered || second.delivered, first.err
}

// historyRecord reads a key of either layout holding an event of job id: legacy
// history/jobs/<id>/<host>/<seq>, or history/hosts/<host>/jobs/<id>/<seq>. ok is false for
// a key of another shape or another job.
func (s *Store) historyRecord(id model.JobID, key string, value []byte) (HistoryRecord, bool) {
	host, seq, ok := "", "", false
	if rest, legacy := strings.CutPrefix(key, s.keys.LegacyHistory(id)); legacy {
		host, seq, ok = strings.Cut(rest, "/")
	} else if rest, perHost := strings.CutPrefix(key, s.keys.HostHistories()); perHost {
		var jobPart string
		host, jobPart, ok = strings.Cut(rest, "/")
		if ok {
			seq, ok = strings.CutPrefix(jobPart, "jobs/"+string(id)+"/")
		}
	}
	if !ok || host == "" || seq == "" || strings.Contains(seq, "/") {
		return HistoryRecord{}, false
	}
	r := HistoryRecord{Host: host, Seq: seq}
	r.Err = decode(key, value, &r.Event)
	return r, true
}

// jobHistory reads a job's history in both layouts at one revision: the legacy prefix, and
// one range per registered host in the per-host layout. Registered hosts are the hosts that
// can hold history: deregistering a host deletes its history with it. A record found in
// both layouts (a host's event with the same Seq) is kept once. Records are ordered by
// host, then Seq.
func (s *Store) jobHistory(ctx context.Context, id model.JobID) ([]HistoryRecord, int64, error) {
	first, rev, err := s.read(ctx, "history",
		clientv3.OpGet(s.keys.LegacyHistory(id), clientv3.WithPrefix()),
		clientv3.OpGet(s.keys.Hosts(), clientv3.WithPrefix(), clientv3.WithKeysOnly()))
	if err != nil {
		return nil, 0, err
	}
	seen := map[[2]string]int{}
	var out []HistoryRecord
	add := func(key string, value []byte) {
		r, ok := s.historyRecord(id, key, value)
		if !ok {
			return
		}
		k := [2]string{r.Host, r.Seq}
		if i, dup := seen[k]; dup {
			out[i] = r // the per-host copy, read last, wins
			return
		}
		seen[k] = len(out)
		out = append(out, r)
	}
	for _, kv := range first[0].Kvs {
		add(string(kv.Key), kv.Value)
	}
	var hosts []string
	for _, kv := range first[1].Kvs {
		if h, rest, ok := splitUnder(s.keys.Hosts(), string(kv.Key)); ok && rest == "id" {
			hosts = append(hosts, h)
		}
	}
	for start := 0; start < len(hosts); start += maxTxnOps {
		chunk := hosts[start:min(start+maxTxnOps, len(hosts))]
		gets := make([]clientv3.Op, len(chunk))
		for i, h := range chunk {
			gets[i] = clientv3.OpGet(s.keys.HostHistory(id, h), clientv3.WithPrefix(), clientv3.WithRev(rev))
		}
		resps, _, err := s.read(ctx, "history", gets...)
		if err != nil {
			return nil, 0, err
		}
		for _, r := range resps {
			for _, kv := range r.Kvs {
				add(string(kv.Key), kv.Value)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Seq < out[j].Seq
	})
	return out, rev, nil
}

// History returns a job's events on all hosts, in both layouts, oldest first (ties by
// host, then by their order on the host).
func (s *Store) History(ctx context.Context, id model.JobID) ([]model.TaskStatusEvent, error) {
	if err := ValidName("job id", string(id)); err != nil {
		return nil, err
	}
	recs, _, err := s.jobHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	events := make([]model.TaskStatusEvent, 0, len(recs))
	for _, r := range recs {
		if r.Err != nil {
			s.skipBad(r.Err)
			continue
		}
		events = append(events, r.Event)
	}
	// Records come by host then time; SliceStable keeps a host's own order on equal
	// timestamps.
	sort.SliceStable(events, func(i, j int) bool {
		if events[i].Timestamp != events[j].Timestamp {
			return events[i].Timestamp < events[j].Timestamp
		}
		return events[i].Host < events[j].Host
	})
	return events, nil
}
