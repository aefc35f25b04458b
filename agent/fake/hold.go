package fake

import (
	"context"
	"fmt"
)

// Docker 20.10 makes a container visible to its listing (`docker ps -a`, the API's list)
// before the container can be found by id: its create writes the container to the listing's
// view (setHostConfig) and registers it for inspect, start and remove only at the end. A
// container listed at that moment is, a few milliseconds later, inspected as "No such
// container" although nothing removed it. HoldCreates lets a test stop a Create in that
// state for as long as it likes.

// createHold is one held Create: held gets the container's id, release lets it finish.
type createHold struct {
	held    chan string
	release chan struct{}
}

// HoldCreates stops the next Create halfway: its container is listed (created, never
// started) while Inspect, Start, Stop, Remove and Wait do not find it yet, until release is
// called; then Create returns its id. held receives the id once the Create is held.
// agent/docker's List skips what inspect does not find, so the agent itself sees less than
// this fake's List shows: the test meets the harder case.
func (r *Runtime) HoldCreates() (held <-chan string, release func()) {
	h := &createHold{held: make(chan string, 1), release: make(chan struct{})}
	r.mu.Lock()
	r.hold = h
	r.mu.Unlock()
	var once bool
	return h.held, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !once {
			once = true
			close(h.release)
		}
	}
}

// holdLocked keeps c half-created until h is released or ctx ends (the create then fails
// and c is gone, as the engine cleans up a create that fails). Callers hold mu; it is
// released while waiting.
func (r *Runtime) holdLocked(ctx context.Context, h *createHold, c *ctr) error {
	c.creating = true
	h.held <- c.c.ID
	r.mu.Unlock()
	var err error
	select {
	case <-h.release:
	case <-ctx.Done():
		err = fmt.Errorf("create %s: %w", c.spec.Name, ctx.Err())
	}
	r.mu.Lock()
	c.creating = false
	if err != nil {
		delete(r.containers, c.c.ID)
	}
	return err
}
