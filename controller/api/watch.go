package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
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

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", ndjson)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: pass lines on as they come
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		s.log.Warn("watch stream cannot flush", zap.String("job-id", string(id)), zap.Error(err))
		return
	}
	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()

	// The watch runs on its own goroutine and hands batches of lines over; only this
	// goroutine writes, so heartbeats and events never interleave.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if down := s.shutdownOf(r); down != nil {
		go func() {
			select {
			case <-down:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	lines := make(chan [][]byte)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		d := newEventDedup(s.store.Keys().History(id), f)
		send := func(batch [][]byte) {
			if len(batch) == 0 {
				return
			}
			select {
			case lines <- batch:
			case <-ctx.Done():
			}
		}
		_ = s.store.WatchPrefix(ctx, s.store.Keys().History(id),
			func(kvs []store.KV, _ int64) { send(d.reset(kvs, s.skipBad)) },
			func(evs []store.Event) { send(d.events(evs, s.skipBad)) })
	}()
	defer func() {
		cancel()
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
		if _, err := w.Write(out); err != nil {
			return // the client is gone
		}
		if err := rc.Flush(); err != nil {
			return
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

// eventDedup turns the lists and watch events of a job's history prefix into the lines of
// one stream, each event once: keys are <prefix><host>/<20-digit ns>, so within one host
// key order is time order and the last key sent tells what is new after a re-list.
type eventDedup struct {
	prefix  string
	filter  eventFilter
	started bool
	last    map[string]string // host -> newest key sent
}

func newEventDedup(prefix string, f eventFilter) *eventDedup {
	return &eventDedup{prefix: prefix, filter: f, last: map[string]string{}}
}

// pending is one event to send.
type pending struct {
	host string
	key  string
	ev   model.TaskStatusEvent
}

// hostOf is the host segment of an event key, "" for a key of another shape.
func (d *eventDedup) hostOf(key string) string {
	rest, ok := strings.CutPrefix(key, d.prefix)
	if !ok {
		return ""
	}
	host, ts, ok := strings.Cut(rest, "/")
	if !ok || ts == "" || strings.Contains(ts, "/") {
		return ""
	}
	return host
}

// reset handles a (re-)list. The first one yields the newest event per host (or those
// since the filter's time); later ones yield what is newer than what was sent.
func (d *eventDedup) reset(kvs []store.KV, bad func(string, error)) [][]byte {
	byHost := map[string][]store.KV{}
	for _, kv := range kvs {
		h := d.hostOf(kv.Key)
		if h == "" || !d.filter.wants(h) || kv.Key <= d.last[h] {
			continue
		}
		byHost[h] = append(byHost[h], kv)
	}
	var out []pending
	for h, list := range byHost {
		sort.Slice(list, func(i, j int) bool { return list[i].Key < list[j].Key })
		if !d.started && d.filter.since < 0 {
			list = list[len(list)-1:]
		}
		for _, kv := range list {
			var ev model.TaskStatusEvent
			if err := json.Unmarshal(kv.Value, &ev); err != nil {
				bad(kv.Key, err)
				continue
			}
			if !d.started && d.filter.since >= 0 && ev.Timestamp < d.filter.since {
				continue
			}
			out = append(out, pending{host: h, key: kv.Key, ev: ev})
		}
	}
	d.started = true
	// Events left out (older than since, undecodable) must not come back at the next list.
	for h, list := range byHost {
		if k := list[len(list)-1].Key; k > d.last[h] {
			d.last[h] = k
		}
	}
	// Across hosts, oldest first, as the history endpoint orders them.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ev.Timestamp != out[j].ev.Timestamp {
			return out[i].ev.Timestamp < out[j].ev.Timestamp
		}
		if out[i].host != out[j].host {
			return out[i].host < out[j].host
		}
		return out[i].key < out[j].key
	})
	return d.emit(out)
}

// events handles one batch of watch events: new history entries, in order. Deletes (the
// history being trimmed or removed) say nothing about the tasks.
func (d *eventDedup) events(evs []store.Event, bad func(string, error)) [][]byte {
	var out []pending
	for _, e := range evs {
		if e.Type != store.EventPut {
			continue
		}
		h := d.hostOf(e.Key)
		if h == "" || !d.filter.wants(h) || e.Key <= d.last[h] {
			continue
		}
		var ev model.TaskStatusEvent
		if err := json.Unmarshal(e.Value, &ev); err != nil {
			bad(e.Key, err)
			continue
		}
		out = append(out, pending{host: h, key: e.Key, ev: ev})
	}
	return d.emit(out)
}

// emit encodes events as lines and remembers the newest key sent per host.
func (d *eventDedup) emit(evs []pending) [][]byte {
	lines := make([][]byte, 0, len(evs))
	for _, p := range evs {
		line, err := json.Marshal(p.ev)
		if err != nil {
			continue // a decoded model value always encodes
		}
		lines = append(lines, line)
		if p.key > d.last[p.host] {
			d.last[p.host] = p.key
		}
	}
	return lines
}
