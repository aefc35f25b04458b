package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// DefaultHeartbeat is how often an idle watch stream gets a blank line, so clients and
// proxies tell a quiet stream from a dead connection.
const DefaultHeartbeat = 15 * time.Second

// ndjson is the media type of the watch stream: one JSON document per line.
const ndjson = "application/x-ndjson"

// watchJob answers GET /jobs/{id}/watch?host=&since=: a stream of the job's task status
// events, newline-delimited JSON, pushed as agents record them in etcd. It starts with the
// newest event of every host (or, with since, every stored event at or after that time),
// then follows. It ends only when the client leaves or the master shuts down.
func (s *server) watchJob(w http.ResponseWriter, r *http.Request) {
	id, ok := jobIDOr404(w, r)
	if !ok {
		return
	}
	f := eventFilter{hosts: map[string]bool{}, since: -1}
	for _, h := range r.URL.Query()["host"] {
		if h != "" {
			f.hosts[h] = true
		}
	}
	if v := r.URL.Query().Get("since"); v != "" {
		var err error
		if f.since, err = strconv.ParseInt(v, 10, 64); err != nil || f.since < 0 {
			s.fail(w, r, badRequest("since %q: want a time in milliseconds since the epoch", v))
			return
		}
	}
	if _, err := s.store.GetJob(r.Context(), id); errors.Is(err, store.ErrJobNotFound) {
		writeJobNotFound(w, fmt.Sprintf("job %s not found", id))
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}

	ctx, st, done, err := s.openStream(w, r)
	if err != nil {
		if !errors.Is(err, errStreamRefused) {
			s.log.Warn("watch stream cannot flush", zap.String("job-id", string(id)), zap.Error(err))
		}
		return
	}

	// The watch runs on its own goroutine and hands batches of lines over; only this
	// goroutine writes, so heartbeats and events never interleave.
	lines := make(chan [][]byte)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		d := newEventDedup(f)
		send := func(batch [][]byte) {
			if len(batch) == 0 {
				return
			}
			select {
			case lines <- batch:
			case <-ctx.Done():
			}
		}
		_ = s.store.WatchJobHistory(ctx, id,
			func(recs []store.HistoryRecord) { send(d.reset(recs, s.skipBad)) },
			func(recs []store.HistoryRecord) { send(d.events(recs, s.skipBad)) })
	}()
	defer func() {
		done()
		<-watchDone // the handler returns only once the watch has stopped
	}()

	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	for {
		var out []byte
		select {
		case <-ctx.Done():
			return
		case batch := <-lines:
			for _, l := range batch {
				out = append(append(out, l...), '\n')
			}
		case <-heartbeat.C:
			out = []byte{'\n'}
		}
		if err := st.write(out); err != nil {
			return // the client is gone, or stopped reading
		}
	}
}

// shutdownOf returns a channel closed when the http.Server answering r shuts down, nil
// when r carries no server. A graceful shutdown waits for connections to go idle, which a
// stream never does: streams end on this signal instead of holding the shutdown up.
func (s *server) shutdownOf(r *http.Request) <-chan struct{} {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return nil
	}
	s.shutdownMu.Lock()
	defer s.shutdownMu.Unlock()
	ch, ok := s.shutdowns[srv]
	if !ok {
		ch = make(chan struct{})
		s.shutdowns[srv] = ch
		srv.RegisterOnShutdown(func() { close(ch) })
	}
	return ch
}

// skipBad logs an event that cannot be decoded; the stream goes on without it.
func (s *server) skipBad(key string, err error) {
	s.log.Warn("skipping undecodable history event", zap.String("key", key), zap.Error(err))
}

// eventFilter is what a watcher asked for: some hosts (none = all), and events from a time.
type eventFilter struct {
	hosts map[string]bool
	since int64 // ms; -1: start with the newest event per host
}

func (f eventFilter) wants(host string) bool { return len(f.hosts) == 0 || f.hosts[host] }

// eventDedup turns the lists and watch events of a job's history into the lines of one
// stream, each event once: within one host a record's Seq orders it in time, so the last
// Seq sent tells what is new after a re-list.
type eventDedup struct {
	filter  eventFilter
	started bool
	last    map[string]string // host -> newest Seq sent
}

func newEventDedup(f eventFilter) *eventDedup {
	return &eventDedup{filter: f, last: map[string]string{}}
}

// reset handles a (re-)list. The first one yields the newest event per host (or those
// since the filter's time); later ones yield what is newer than what was sent.
func (d *eventDedup) reset(recs []store.HistoryRecord, bad func(string, error)) [][]byte {
	byHost := map[string][]store.HistoryRecord{}
	for _, r := range recs {
		if !d.filter.wants(r.Host) || r.Seq <= d.last[r.Host] {
			continue
		}
		byHost[r.Host] = append(byHost[r.Host], r)
	}
	var out []store.HistoryRecord
	for _, list := range byHost {
		sort.Slice(list, func(i, j int) bool { return list[i].Seq < list[j].Seq })
		if !d.started && d.filter.since < 0 {
			list = list[len(list)-1:]
		}
		for _, r := range list {
			if r.Err != nil {
				bad(r.Host+"/"+r.Seq, r.Err)
				continue
			}
			if !d.started && d.filter.since >= 0 && r.Event.Timestamp < d.filter.since {
				continue
			}
			out = append(out, r)
		}
	}
	d.started = true
	// Events left out (older than since, undecodable) must not come back at the next list.
	for h, list := range byHost {
		if seq := list[len(list)-1].Seq; seq > d.last[h] {
			d.last[h] = seq
		}
	}
	// Across hosts, oldest first, as the history endpoint orders them.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Event.Timestamp != out[j].Event.Timestamp {
			return out[i].Event.Timestamp < out[j].Event.Timestamp
		}
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Seq < out[j].Seq
	})
	return d.emit(out)
}

// events handles one batch of new history records, in order.
func (d *eventDedup) events(recs []store.HistoryRecord, bad func(string, error)) [][]byte {
	var out []store.HistoryRecord
	for _, r := range recs {
		if !d.filter.wants(r.Host) || r.Seq <= d.last[r.Host] {
			continue
		}
		if r.Err != nil {
			bad(r.Host+"/"+r.Seq, r.Err)
			continue
		}
		out = append(out, r)
	}
	return d.emit(out)
}

// emit encodes events as lines and remembers the newest Seq sent per host.
func (d *eventDedup) emit(recs []store.HistoryRecord) [][]byte {
	lines := make([][]byte, 0, len(recs))
	for _, r := range recs {
		line, err := json.Marshal(r.Event)
		if err != nil {
			continue // a decoded model value always encodes
		}
		lines = append(lines, line)
		if r.Seq > d.last[r.Host] {
			d.last[r.Host] = r.Seq
		}
	}
	return lines
}
