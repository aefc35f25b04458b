package api

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// Defaults of the event stream's bounds.
const (
	DefaultEventBuffer      = 10000 // events a master keeps for clients resuming
	DefaultSubscriberBuffer = 1000  // events queued for one client before it is cut off
	eventsRetryPause        = time.Second
)

// EventStore is what the cluster event stream needs of the store.
type EventStore interface {
	Revision(ctx context.Context) (int64, error)
	CheckRevision(ctx context.Context, rev int64) error
	WatchChanges(ctx context.Context, rev int64, fn func(changes []model.KeyChange, reached int64)) error
}

// EventsConfig configures an Events hub.
type EventsConfig struct {
	Store            EventStore // required
	Logger           *zap.Logger
	Now              func() time.Time
	Buffer           int // default DefaultEventBuffer
	SubscriberBuffer int // default DefaultSubscriberBuffer
}

// Events is a master's cluster event stream: one etcd watch on the whole key root, whose
// events every GET /events client shares, and a ring of the recent ones so a client that
// reconnects resumes from its last revision without a watch of its own. Run drives it.
type Events struct {
	cfg   EventsConfig
	log   *zap.Logger
	m     *eventMetrics // registered by the API the hub serves (New)
	ready chan struct{} // closed once the watch knows where it starts

	mu      sync.Mutex
	ring    []model.ClusterEvent // oldest first, at most cfg.Buffer
	floor   int64                // every event after this revision is in ring (or still to come)
	reached int64                // the revision the watch has seen up to
	lastRev int64                // revision of the newest event
	nextIdx int                  // index the next event of lastRev gets
	subs    map[*subscriber]struct{}
	cuts    int // subscribers cut off for being slow (tests wait on it)
}

// NewEvents builds the hub; nothing happens before Run.
func NewEvents(cfg EventsConfig) *Events {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultEventBuffer
	}
	if cfg.SubscriberBuffer <= 0 {
		cfg.SubscriberBuffer = DefaultSubscriberBuffer
	}
	return &Events{cfg: cfg, log: cfg.Logger, m: newEventMetrics(), ready: make(chan struct{}), subs: map[*subscriber]struct{}{}}
}

// Run watches until ctx ends. A broken watch resumes from the revision it reached; one
// that fell behind etcd's compaction starts again from now, and the streams then open
// end with STREAM_RESET (their clients resume, and find their revision gone).
func (h *Events) Run(ctx context.Context) error {
	defer h.cutAll(model.EventStreamReset, "the master's event watch stopped")
	rev, err := h.revision(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.reached, h.floor, h.lastRev = rev, rev, rev
	h.m.revision.Set(float64(rev))
	h.mu.Unlock()
	close(h.ready)
	for {
		h.mu.Lock()
		from := h.reached + 1
		h.mu.Unlock()
		err := h.cfg.Store.WatchChanges(ctx, from, h.publish)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, store.ErrCompacted) {
			h.log.Warn("event watch fell behind compaction, starting from now", zap.Error(err))
			rev, err := h.revision(ctx)
			if err != nil {
				return err
			}
			h.mu.Lock()
			h.ring, h.reached, h.floor, h.lastRev, h.nextIdx = nil, rev, rev, rev, 0
			h.m.buffered.Set(0)
			h.m.revision.Set(float64(rev))
			h.m.resets.Inc()
			h.mu.Unlock()
			h.cutAll(model.EventStreamReset, fmt.Sprintf("the master's event watch lost its place (%v); resume to learn what is gone", err))
			continue
		}
		h.log.Info("event watch broke, resuming", zap.Int64("from-revision", from), zap.Error(err))
		if !sleepCtx(ctx, eventsRetryPause) {
			return ctx.Err()
		}
	}
}

// revision asks the store for its revision until it answers or ctx ends.
func (h *Events) revision(ctx context.Context) (int64, error) {
	for {
		rev, err := h.cfg.Store.Revision(ctx)
		if err == nil {
			return rev, nil
		}
		h.log.Warn("event watch cannot read the revision", zap.Error(err))
		if !sleepCtx(ctx, eventsRetryPause) {
			return 0, ctx.Err()
		}
	}
}

// publish turns a batch of changes into events, keeps them and hands them to every
// subscriber.
func (h *Events) publish(changes []model.KeyChange, reached int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var evs []model.ClusterEvent
	evs, h.lastRev, h.nextIdx = model.ClusterEventsOf(changes, h.lastRev, h.nextIdx, h.cfg.Now().UnixMilli())
	h.reached = max(h.reached, reached)
	h.ring = append(h.ring, evs...)
	if over := len(h.ring) - h.cfg.Buffer; over > 0 {
		h.floor = h.ring[over-1].Revision
		h.ring = append([]model.ClusterEvent(nil), h.ring[over:]...)
	}
	h.m.buffered.Set(float64(len(h.ring)))
	h.m.revision.Set(float64(h.reached))
	for sub := range h.subs {
		for _, ev := range evs {
			if !sub.offer(ev) {
				h.cuts++
				h.m.slowCuts.Inc()
				delete(h.subs, sub)
				break
			}
		}
	}
}

// subscribe registers a subscriber for the events from revision from on (0: from now),
// with the buffered ones it must send first. ok is false when from is older than the
// buffer: the caller needs its own watch.
func (h *Events) subscribe(ctx context.Context, from int64) (sub *subscriber, backlog []model.ClusterEvent, ok bool, err error) {
	select {
	case <-h.ready:
	case <-ctx.Done():
		return nil, nil, false, ctx.Err()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if from != 0 && from <= h.floor {
		return nil, nil, false, nil
	}
	sub = newSubscriber(h.cfg.SubscriberBuffer, from)
	for _, ev := range h.ring {
		if ev.Revision >= from && from != 0 {
			backlog = append(backlog, ev)
		}
	}
	h.subs[sub] = struct{}{}
	return sub, backlog, true, nil
}

// unsubscribe forgets sub (its handler returns).
func (h *Events) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, sub)
}

// cutAll ends every subscriber's stream with a final event of type t.
func (h *Events) cutAll(t model.ClusterEventType, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		sub.cut(model.ClusterEvent{Revision: h.reached, Type: t, Message: msg, Time: h.cfg.Now().UnixMilli()})
		delete(h.subs, sub)
	}
}

// slowCuts is how many subscribers were cut off for not keeping up.
func (h *Events) slowCuts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cuts
}

// subscriber is one stream's queue: bounded, and once full the stream is cut off with a
// final event rather than buffered without end. One goroutine feeds it (the hub, under its
// lock, or the stream's own watch); the stream's handler drains it.
type subscriber struct {
	from   int64 // events before this revision are not for it
	ch     chan model.ClusterEvent
	done   chan struct{} // closed by cut; final is set first
	final  model.ClusterEvent
	closed bool
}

func newSubscriber(size int, from int64) *subscriber {
	return &subscriber{from: from, ch: make(chan model.ClusterEvent, size), done: make(chan struct{})}
}

// offer queues ev; false when the queue is full, and the subscriber is then cut off.
func (s *subscriber) offer(ev model.ClusterEvent) bool {
	if s.closed || ev.Revision < s.from {
		return !s.closed
	}
	select {
	case s.ch <- ev:
		return true
	default:
		s.cut(model.ClusterEvent{Revision: ev.Revision, Time: ev.Time, Type: model.EventStreamCut,
			Message: fmt.Sprintf("this client fell %d events behind the stream and was cut off; resume with fromRevision set to the last revision read", cap(s.ch))})
		return false
	}
}

// cut ends the stream with final (once).
func (s *subscriber) cut(final model.ClusterEvent) {
	if s.closed {
		return
	}
	s.closed, s.final = true, final
	close(s.done)
}

// sleepCtx waits d or until ctx is done; false if ctx ended it.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
