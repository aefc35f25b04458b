package store

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/connectivity"
)

// The etcd client waits for a connection until the request's deadline (its calls wait for
// ready), so with every endpoint refusing connections a master would answer 503 only after
// --etcd-timeout. Before each request the store looks at the client's connection: gRPC
// keeps it in TRANSIENT_FAILURE from the moment every endpoint failed its last attempt
// until one is ready again. Only then does it probe the endpoints with a plain TCP dial:
// when none accepts, the request fails at once with ErrUnavailable; when one does (etcd is
// back, or hangs), the client's reconnect back-off is reset and the request goes its usual
// way, bounded by its deadline. A leader election keeps the connections up, so it never
// trips this: requests wait for the new leader as before.

const (
	// probeTimeout bounds one TCP dial of the probe: a refused dial answers at once, and a
	// peer that does not answer a SYN this long is as good as gone for a request.
	probeTimeout = 300 * time.Millisecond
	// probeValid is how long a probe's answer serves further requests (no dial storm from
	// a busy master during an outage).
	probeValid = 250 * time.Millisecond
)

// fastFail remembers the last probe.
type fastFail struct {
	mu      sync.Mutex
	at      time.Time
	refused error // nil: an endpoint accepted
}

// checkReachable returns an error wrapping ErrUnavailable when no etcd endpoint accepts
// connections, nil when the request should be tried.
func (s *Store) checkReachable(ctx context.Context) error {
	conn := s.cli.ActiveConnection()
	if conn == nil || conn.GetState() != connectivity.TransientFailure {
		return nil
	}
	f := s.fastFail
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.at) < probeValid {
		return f.refused
	}
	f.refused = probeEndpoints(ctx, s.cli.Endpoints())
	f.at = time.Now()
	if f.refused == nil {
		conn.ResetConnectBackoff() // an endpoint is back: reconnect now, not after the back-off
	}
	return f.refused
}

// probeEndpoints dials every endpoint at once and returns nil as soon as one accepts, else
// an error naming the last failure. An endpoint it cannot dial by itself (an unknown
// scheme) counts as accepting: the client knows better.
func probeEndpoints(ctx context.Context, endpoints []string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	errs := make(chan error, len(endpoints))
	for _, ep := range endpoints {
		go func() {
			network, addr, ok := dialAddr(ep)
			if !ok {
				errs <- nil
				return
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err == nil {
				c.Close()
			}
			errs <- err
		}()
	}
	var last error
	for range endpoints {
		if err := <-errs; err == nil {
			return nil
		} else {
			last = err
		}
	}
	return fmt.Errorf("no etcd endpoint accepts connections: %w: %w", ErrUnavailable, last)
}

// dialAddr is the network and address of an etcd endpoint as the client accepts it:
// host:port, http(s)://host:port, unix(s)://path.
func dialAddr(ep string) (network, addr string, ok bool) {
	if ep == "" {
		return "", "", false
	}
	if !strings.Contains(ep, "://") {
		return "tcp", ep, true
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "", "", false
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host != "" {
			return "tcp", u.Host, true
		}
	case "unix", "unixs":
		if p := u.Host + u.Path; p != "" {
			return "unix", p, true
		}
	}
	return "", "", false
}
