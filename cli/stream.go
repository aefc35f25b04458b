package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/helios-go/helios/model"
)

// defaultStreamIdle is how long a watch stream may stay silent before the client takes it
// for dead and reconnects: three of the master's 15 s heartbeats.
const defaultStreamIdle = 45 * time.Second

// seenEvents remembers which task status events were already handled, across reconnects:
// per host the newest timestamp, and the events carrying exactly that timestamp (two
// events can share a millisecond).
type seenEvents struct {
	last map[string]int64
	at   map[string]map[string]bool
}

func newSeenEvents() *seenEvents {
	return &seenEvents{last: map[string]int64{}, at: map[string]map[string]bool{}}
}

// add records ev and tells whether it is new. Events older than the newest one seen from
// their host are old news: a master replays them after a reconnect.
func (s *seenEvents) add(ev model.TaskStatusEvent) bool {
	fp, err := json.Marshal(ev)
	if err != nil {
		return true
	}
	last, known := s.last[ev.Host]
	switch {
	case known && ev.Timestamp < last:
		return false
	case known && ev.Timestamp == last:
		if s.at[ev.Host][string(fp)] {
			return false
		}
		s.at[ev.Host][string(fp)] = true
	default:
		s.last[ev.Host] = ev.Timestamp
		s.at[ev.Host] = map[string]bool{string(fp): true}
	}
	return true
}

// since is the time a reopened stream must replay from so no host misses an event: the
// oldest of the hosts' newest timestamps; ok is false before any event.
func (s *seenEvents) since() (ms int64, ok bool) {
	for _, t := range s.last {
		if !ok || t < ms {
			ms, ok = t, true
		}
	}
	return ms, ok
}

// stopWatch wraps an error of a watch callback, to tell it from a broken stream.
type stopWatch struct{ err error }

func (e stopWatch) Error() string { return e.err.Error() }

// watchEvents follows GET /jobs/{id}/watch and calls fn with every event not in seen, in
// order, until ctx ends (ctx.Err()) or fn returns an error (returned as is). A stream that
// breaks or goes silent is reopened from where it stopped: with since, and seen skipping
// what was handled already. Opening retries unreachable masters like any call.
func (c *client) watchEvents(ctx context.Context, id model.JobID, hosts []string, seen *seenEvents, fn func(model.TaskStatusEvent) error) error {
	reopen := c.reopener()
	for {
		query := url.Values{}
		for _, h := range hosts {
			query.Add("host", h)
		}
		if ms, ok := seen.since(); ok {
			query.Set("since", strconv.FormatInt(ms, 10))
		}
		err := c.stream(ctx, "/jobs/"+url.PathEscape(string(id))+"/watch", query, func(line []byte) error {
			reopen.line()
			var ev model.TaskStatusEvent
			if err := json.Unmarshal(line, &ev); err != nil {
				return fmt.Errorf("decode event %q: %w", line, err)
			}
			if !seen.add(ev) {
				return nil
			}
			if err := fn(ev); err != nil {
				return stopWatch{err}
			}
			return nil
		})
		var stop stopWatch
		var ae *apiError
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &stop):
			return stop.err
		case errors.As(err, &ae):
			return err // the master refused (404), or none could be reached in time
		}
		c.log("watch stream ended, reconnecting: %v", err)
		if err := reopen.wait(ctx); err != nil {
			return err
		}
	}
}

// stream opens a streaming GET and calls fn with each non-empty line until the stream ends
// (an error saying why). Connecting retries like do; a master's refusal is an apiError.
func (c *client) stream(ctx context.Context, path string, query url.Values, fn func([]byte) error) error {
	if err := c.resolve(ctx); err != nil {
		return &apiError{Status: statusUnavailable, Message: err.Error()}
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if c.user != "" {
		q.Set("user", c.user)
	}
	deadline := time.Now().Add(c.retryTimeout)
	var round []error // connection failures of the first round, one per master
	for attempt := 0; ; attempt++ {
		base := c.endpoints[c.next%len(c.endpoints)]
		c.next++
		u := *base
		u.Path = base.Path + path
		u.RawQuery = q.Encode()
		resp, cancel, err := c.openStream(ctx, u.String())
		var lastErr error
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			lastErr = err
			if attempt < len(c.endpoints) {
				round = append(round, err)
			}
		case resp.StatusCode == http.StatusOK:
			defer cancel()
			return c.readLines(resp, fn)
		default:
			data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			cancel()
			if resp.StatusCode != http.StatusBadGateway && resp.StatusCode != http.StatusServiceUnavailable {
				return decodeError(resp.StatusCode, data)
			}
			lastErr = decodeError(resp.StatusCode, data)
		}
		wait := c.retryDelay(attempt)
		if time.Now().Add(wait).After(deadline) {
			return &apiError{Status: statusUnavailable, Message: fmt.Sprintf("could not reach any master: %v", lastErr)}
		}
		if attempt+1 == len(c.endpoints) && len(round) == len(c.endpoints) {
			c.warnUnreachable(round)
		}
		c.log("retrying in %s: %v", wait, lastErr)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// openStream sends the request. The stream has no overall time limit (the http client's
// would cut it), only a watchdog: no headers, or no line, within the idle time cancels it.
func (c *client) openStream(ctx context.Context, u string) (*http.Response, func(), error) {
	rctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set(model.HeaderClientVersion, model.Version)
	req.Header.Set("Accept", "application/x-ndjson")
	idle := c.streamIdle
	if idle <= 0 {
		idle = defaultStreamIdle
	}
	wd := &watchdog{idle: idle, timer: time.AfterFunc(idle, cancel)}
	stop := func() { wd.timer.Stop(); cancel() }
	hc := &http.Client{Transport: c.http.Transport}
	resp, err := hc.Do(req)
	if err != nil {
		stop()
		c.log("GET %s: %v", u, err)
		return nil, nil, err
	}
	c.log("GET %s -> %d (streaming)", u, resp.StatusCode)
	resp.Body = &watchedBody{ReadCloser: resp.Body, wd: wd}
	return resp, stop, nil
}

// watchdog cancels a stream that stays silent for idle.
type watchdog struct {
	mu    sync.Mutex
	idle  time.Duration
	timer *time.Timer
}

func (w *watchdog) kick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer.Reset(w.idle)
}

// watchedBody kicks the watchdog whenever bytes arrive (heartbeats included).
type watchedBody struct {
	io.ReadCloser
	wd *watchdog
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.wd.kick()
	}
	return n, err
}

// readLines calls fn with each non-empty line of the body until it ends or fn fails.
func (c *client) readLines(resp *http.Response, fn func([]byte) error) error {
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	for {
		line, err := rd.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if l := trimLine(line); len(l) > 0 {
				if ferr := fn(l); ferr != nil {
					return ferr
				}
			}
		}
		if err == io.EOF {
			return errors.New("the master closed the stream")
		}
		if err != nil {
			return fmt.Errorf("read stream: %w", err)
		}
	}
}

func trimLine(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}
