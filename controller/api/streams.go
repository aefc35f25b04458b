package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/helios-go/helios/model"
)

// Defaults of the limits on watch streams.
const (
	DefaultMaxStreams          = 1000
	DefaultMaxStreamsPerClient = 50
	DefaultStreamWriteTimeout  = 30 * time.Second
)

// errStreamRefused says openStream already answered the request (429).
var errStreamRefused = errors.New("stream refused: too many open")

// streamLimiter caps open watch streams, in all and per client address, so that clients
// cannot hold an unbounded number of goroutines and etcd watchers.
type streamLimiter struct {
	max, perClient int

	mu       sync.Mutex
	total    int
	byClient map[string]int
}

func newStreamLimiter(max, perClient int) *streamLimiter {
	return &streamLimiter{max: max, perClient: perClient, byClient: map[string]int{}}
}

// acquire takes a place for client, or tells why there is none.
func (l *streamLimiter) acquire(client string) (release func(), refusal string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.total >= l.max:
		return nil, fmt.Sprintf("this master already serves %d watch streams, its limit (--max-watch-streams)", l.total)
	case l.byClient[client] >= l.perClient:
		return nil, fmt.Sprintf("%s already has %d watch streams open, the limit per client (--max-watch-streams-per-client)", client, l.byClient[client])
	}
	l.total++
	l.byClient[client]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if l.byClient[client]--; l.byClient[client] == 0 {
				delete(l.byClient, client)
			}
		})
	}, ""
}

// clientOf is the address a request came from, without its port.
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// stream writes the lines of one watch stream, each write bounded by a deadline, so a
// client that stops reading is cut off instead of holding the handler forever.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

// write sends b and flushes it.
func (st *streamWriter) write(b []byte) error {
	_ = st.rc.SetWriteDeadline(time.Now().Add(st.timeout)) // unsupported only by test recorders
	if _, err := st.w.Write(b); err != nil {
		return err
	}
	return st.rc.Flush()
}

// openStream answers r with a stream of newline-delimited JSON: the status line and
// headers are sent at once. Its context ends when the client leaves or the server shuts
// down; done releases it (call it when the handler returns). When the stream limits are
// reached it answers 429 itself and returns errStreamRefused.
func (s *server) openStream(w http.ResponseWriter, r *http.Request) (ctx context.Context, st *streamWriter, done func(), err error) {
	release, refusal := s.streamLimits.acquire(clientOf(r))
	if refusal != "" {
		s.metrics.streamsRefused.Inc()
		writeJSON(w, http.StatusTooManyRequests, model.ErrorResponse{Status: model.StatusTooManyStreams, Message: refusal})
		return nil, nil, nil, errStreamRefused
	}
	st = &streamWriter{w: w, rc: http.NewResponseController(w), timeout: s.cfg.StreamWriteTimeout}
	w.Header().Set("Content-Type", ndjson)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: pass lines on as they come
	w.WriteHeader(http.StatusOK)
	if err := st.rc.Flush(); err != nil {
		release()
		return nil, nil, nil, err
	}
	s.metrics.streams.Inc()
	ctx, cancel := context.WithCancel(r.Context())
	if down := s.shutdownOf(r); down != nil {
		go func() {
			select {
			case <-down:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, st, func() { cancel(); s.metrics.streams.Dec(); release() }, nil
}
