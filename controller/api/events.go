package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// statusRevisionCompacted answers a fromRevision etcd no longer keeps (410).
const statusRevisionCompacted = "REVISION_COMPACTED"

// ParseFromRevision reads the fromRevision parameter of GET /events: "" (follow from now)
// or a positive etcd revision, the first one the client wants (it was cut off at it).
func ParseFromRevision(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	rev, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || rev <= 0 || strings.TrimSpace(v) != v {
		return 0, fmt.Errorf("fromRevision %q: want a positive etcd revision (the revision of the last event read)", v)
	}
	return rev, nil
}

// clusterEvents answers GET /events[?fromRevision=REV]: every change of the cluster as
// newline-delimited model.ClusterEvent, from the master's shared watch. With fromRevision
// the events of that revision and later come first: from the master's buffer when it
// still holds them, else from a watch of this stream's own; a revision etcd compacted away
// gets 410 REVISION_COMPACTED. A client that does not keep up is cut off with a last
// STREAM_CUT event.
func (s *server) clusterEvents(w http.ResponseWriter, r *http.Request) {
	from, err := ParseFromRevision(r.URL.Query().Get("fromRevision"))
	if err != nil {
		s.fail(w, r, badRequest("%v", err))
		return
	}
	hub := s.cfg.Events
	if hub == nil {
		writeJSON(w, http.StatusServiceUnavailable, model.ErrorResponse{Status: model.StatusServiceUnavailable, Message: "this master does not serve the event stream"})
		return
	}
	sctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestDeadline)
	sub, backlog, shared, err := hub.subscribe(sctx, from)
	cancel()
	if err != nil {
		if r.Context().Err() == nil { // else the client left while the master started its watch
			writeJSON(w, http.StatusServiceUnavailable, model.ErrorResponse{Status: model.StatusServiceUnavailable,
				Message: "the master's event watch has not started yet: etcd does not answer it"})
		}
		return
	}
	if shared {
		defer hub.unsubscribe(sub)
		if from != 0 {
			hub.m.resumes.WithLabelValues(resumeBuffer).Inc()
		}
	} else {
		if err := hub.cfg.Store.CheckRevision(r.Context(), from); errors.Is(err, store.ErrCompacted) {
			hub.m.resumes.WithLabelValues(resumeCompacted).Inc()
			writeJSON(w, http.StatusGone, model.ErrorResponse{Status: statusRevisionCompacted,
				Message: fmt.Sprintf("revision %d is compacted in etcd: start again without fromRevision", from)})
			return
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
		hub.m.resumes.WithLabelValues(resumeWatch).Inc()
	}
	ctx, st, done, err := s.openStream(w, r)
	if err != nil {
		if !errors.Is(err, errStreamRefused) {
			s.log.Warn("event stream cannot flush", zap.Error(err))
		}
		return
	}
	hub.m.streams.Inc()
	defer hub.m.streams.Dec()
	ownDone := make(chan struct{})
	if shared {
		close(ownDone)
	} else {
		sub = newSubscriber(hub.cfg.SubscriberBuffer, from)
		go func() {
			defer close(ownDone)
			s.ownEventWatch(ctx, hub, from, sub)
		}()
	}
	defer func() {
		done()
		<-ownDone
	}()

	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	var out []byte
	var types []model.ClusterEventType // of the events in out, counted once written
	add := func(ev model.ClusterEvent) {
		line, _ := json.Marshal(ev) // a ClusterEvent always encodes
		out = append(append(out, line...), '\n')
		types = append(types, ev.Type)
	}
	for _, ev := range backlog {
		add(ev)
	}
	for {
		final := false
		if len(out) == 0 {
			select {
			case <-ctx.Done():
				return
			case ev := <-sub.ch:
				add(ev)
			case <-sub.done:
				final = true
			case <-heartbeat.C:
				out = []byte{'\n'}
			}
		}
		if !final {
			select {
			case <-sub.done:
				final = true
			default:
			}
		}
		// Take what else is queued, so one write carries it; before the final event, all
		// of it (at most the subscriber's bound), so the client misses nothing before it.
	more:
		for final || len(out) < 64<<10 {
			select {
			case ev := <-sub.ch:
				add(ev)
			default:
				break more
			}
		}
		if final {
			add(sub.final)
		}
		err := st.write(out)
		if err == nil {
			hub.m.countSent(types)
		}
		if err != nil || final {
			return // the client is gone or stopped reading, or the stream is over
		}
		out, types = out[:0], types[:0]
	}
}

// ownEventWatch feeds sub from a watch of its own, from revision from on (older than the
// shared buffer). It resumes a broken watch where it was, and cuts sub off with
// STREAM_COMPACTED when etcd compacts the revisions it still had to read.
func (s *server) ownEventWatch(ctx context.Context, hub *Events, from int64, sub *subscriber) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lastRev, next, at := from-1, 0, from
	for {
		err := hub.cfg.Store.WatchChanges(ctx, at, func(changes []model.KeyChange, reached int64) {
			var evs []model.ClusterEvent
			evs, lastRev, next = model.ClusterEventsOf(changes, lastRev, next, hub.cfg.Now().UnixMilli())
			for _, ev := range evs {
				if !sub.offer(ev) {
					hub.m.slowCuts.Inc()
					cancel() // cut off: the watch has no one to feed
					return
				}
			}
			at = reached + 1
		})
		switch {
		case ctx.Err() != nil || sub.closed:
			return
		case errors.Is(err, store.ErrCompacted):
			sub.cut(model.ClusterEvent{Revision: at, Time: hub.cfg.Now().UnixMilli(), Type: model.EventStreamCompacted,
				Message: fmt.Sprintf("etcd compacted the revisions this stream was replaying (%v): start again without fromRevision", err)})
			return
		}
		s.log.Info("own event watch broke, resuming", zap.Int64("from-revision", at), zap.Error(err))
		if !sleepCtx(ctx, eventsRetryPause) {
			return
		}
	}
}
