package cli

import (
	"context"
	"time"
)

// reopener paces the reopening of a stream (a watch, the event stream) that broke.
// stream() always starts at the next master, so with several masters the first reopen
// after a stream that carried lines goes at once: a master that died is failed over
// without a pause. A stream that ends again before carrying a line backs off by the
// client's retry delay, one step more each time, so masters that keep cutting streams
// are not hammered.
type reopener struct {
	c     *client
	quiet int // streams ended in a row without a line
	lines bool
}

func (c *client) reopener() *reopener { return &reopener{c: c} }

// line notes that the current stream carried a line.
func (r *reopener) line() { r.lines = true }

// wait returns when the next stream may be opened, or ctx's error.
func (r *reopener) wait(ctx context.Context) error {
	if r.lines {
		r.quiet, r.lines = 0, false
	} else {
		r.quiet++
	}
	var d time.Duration
	if r.quiet > 0 || len(r.c.endpoints) < 2 {
		d = r.c.retryDelay(max(r.quiet-1, 0))
	}
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
