package fake

import (
	"context"
	"errors"
	"maps"

	"github.com/helios-go/helios/agent"
)

// eventBuffer is how many events a subscriber may fall behind by; beyond it the stream
// breaks (as a slow Docker events client is cut off), and the agent lists again.
const eventBuffer = 1024

// ErrEventsBroken is what a stream ended by BreakEvents (or by falling behind) reports.
var ErrEventsBroken = errors.New("fake events stream broken")

type subscriber struct {
	labels map[string]string
	events chan agent.ContainerEvent
	errs   chan error
	done   bool
}

// Events implements agent.Runtime.
func (r *Runtime) Events(ctx context.Context, labels map[string]string) (<-chan agent.ContainerEvent, <-chan error) {
	s := &subscriber{labels: maps.Clone(labels), events: make(chan agent.ContainerEvent, eventBuffer), errs: make(chan error, 1)}
	r.mu.Lock()
	r.subs = append(r.subs, s)
	r.mu.Unlock()
	go func() {
		<-ctx.Done()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.endLocked(s, ctx.Err())
	}()
	return s.events, s.errs
}

// endLocked ends one subscription with err; callers hold mu.
func (r *Runtime) endLocked(s *subscriber, err error) {
	if s.done {
		return
	}
	s.done = true
	s.errs <- err
	for i, x := range r.subs {
		if x == s {
			r.subs = append(r.subs[:i], r.subs[i+1:]...)
			break
		}
	}
}

// publishLocked sends an event of c to every matching subscriber; callers hold mu.
func (r *Runtime) publishLocked(action string, c agent.Container) {
	ev := agent.ContainerEvent{Action: action, ID: c.ID, Labels: maps.Clone(c.Labels)}
	for _, s := range append([]*subscriber(nil), r.subs...) {
		if !hasLabels(c.Labels, s.labels) {
			continue
		}
		select {
		case s.events <- ev:
		default:
			r.endLocked(s, ErrEventsBroken)
		}
	}
}

// BreakEvents ends every events stream with ErrEventsBroken, as a restarted engine would.
func (r *Runtime) BreakEvents() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.subs) > 0 {
		r.endLocked(r.subs[0], ErrEventsBroken)
	}
}

// Subscribers is how many events streams are open (a test waits for a reconnection).
func (r *Runtime) Subscribers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.subs)
}
