package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/helios-go/helios/model"
)

// client talks to masters. It resolves them on first use, starts at a random address and
// moves to the next one on every attempt (at once; it waits the retry delay only after a
// round over all of them), retrying connection failures, 502/503 and a 504 to a GET until
// the retry timeout.
type client struct {
	src          masterSource
	resolver     *net.Resolver
	user         string
	authToken    string // bearer token, "" for none
	http         *http.Client
	retryTimeout time.Duration
	retryDelay   func(attempt int) time.Duration
	log          func(format string, args ...any) // verbose log; never nil
	warn         func(format string, args ...any) // always shown on stderr; nil: silent
	streamIdle   time.Duration                    // silence after which a watch stream is reopened; 0: defaultStreamIdle
	pageSize     int                              // entries per page and ids per bulk request; 0: defaultPageSize

	once       sync.Once
	endpoints  []*url.URL
	resolveErr error

	mu     sync.Mutex // guards next and warned: bulk status requests run concurrently
	next   int
	warned bool // the "unreachable, still trying" notice was shown
}

// newHTTPClient builds the client requests go through. Connections dial through resolver,
// so the names SRV records point at are looked up on the same DNS server as the records
// themselves (--resolver); tc (nil: Go's defaults) carries --cacert, --cert and -k.
func newHTTPClient(timeout time.Duration, resolver *net.Resolver, tc *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: resolver}
	tr.DialContext = dialer.DialContext
	if tc != nil {
		tr.TLSClientConfig = tc
	}
	return &http.Client{Timeout: timeout, Transport: tr}
}

// apiError is a master's refusal or a client-side failure, printed as
// {"status": ..., "message": ...} with --json.
type apiError struct {
	Status  string   `json:"status"`
	Message string   `json:"message,omitempty"`
	Errors  []string `json:"errors,omitempty"`
	Code    int      `json:"-"` // HTTP status, 0 when not from a master
	// Hint is ours, never a master's: what the user can do next, printed after the message.
	Hint string `json:"hint,omitempty"`
}

func (e *apiError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return e.Status
}

// statusUnavailable is the status word of errors reaching no master.
const statusUnavailable = "MASTER_UNAVAILABLE"

func (c *client) resolve(ctx context.Context) error {
	c.once.Do(func() {
		c.endpoints, c.resolveErr = resolveMasters(ctx, c.src, c.resolver)
		if c.resolveErr == nil && len(c.endpoints) == 0 {
			c.resolveErr = errNoMasters
		}
		if c.resolveErr == nil {
			c.next = rand.IntN(len(c.endpoints))
		}
	})
	return c.resolveErr
}

// do sends one request and returns the response's status code and body. in (if not nil)
// is sent as JSON. Statuses other than 502/503 are returned, not retried: callers decide
// what a 404 means.
func (c *client) do(ctx context.Context, method, path string, query url.Values, in any) (int, []byte, error) {
	code, _, data, err := c.doFull(ctx, method, path, query, in)
	return code, data, err
}

// doFull is do that also returns the answer's headers.
func (c *client) doFull(ctx context.Context, method, path string, query url.Values, in any) (int, http.Header, []byte, error) {
	if err := c.resolve(ctx); err != nil {
		return 0, nil, nil, &apiError{Status: statusUnavailable, Message: err.Error()}
	}
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return 0, nil, nil, fmt.Errorf("encode request: %w", err)
		}
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if c.user != "" {
		q.Set("user", c.user)
	}
	deadline := time.Now().Add(c.retryTimeout)
	var lastErr error
	var round []error // connection failures of the first round, one per master
	for attempt := 0; ; attempt++ {
		base := c.nextEndpoint()
		u := *base
		u.Path = base.Path + path
		u.RawQuery = q.Encode()
		code, header, data, err := c.once1(ctx, method, u.String(), body)
		switch {
		case err == nil && code != http.StatusBadGateway && code != http.StatusServiceUnavailable &&
			!(code == http.StatusGatewayTimeout && idempotent(method)):
			// 504 is retried only where doing it twice is harmless: a write may have
			// taken effect before the deadline passed.
			return code, header, data, nil
		case err != nil && ctx.Err() != nil:
			return 0, nil, nil, ctx.Err()
		case err != nil:
			lastErr = err
			if attempt < len(c.endpoints) {
				round = append(round, err)
			}
		default:
			lastErr = fmt.Errorf("%s %s: %d %s", method, u.Redacted(), code, bytes.TrimSpace(data))
		}
		// Fail over: the next master of the cluster is tried at once; the retry delay is
		// waited once every master failed in turn.
		wait := time.Duration(0)
		if n := len(c.endpoints); (attempt+1)%n == 0 {
			wait = c.retryDelay(attempt / n)
		}
		if time.Now().Add(wait).After(deadline) {
			if err == nil {
				// The master answered 502/503 until the end: show its own words.
				return code, header, data, nil
			}
			return 0, nil, nil, &apiError{Status: statusUnavailable, Message: fmt.Sprintf("could not reach any master: %v", lastErr)}
		}
		if attempt+1 == len(c.endpoints) && len(round) == len(c.endpoints) {
			c.warnUnreachable(round)
		}
		c.log("retrying in %s: %v", wait, lastErr)
		select {
		case <-ctx.Done():
			return 0, nil, nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// idempotent tells whether a request may be sent again without changing its effect.
func idempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

// nextEndpoint is the master to try next: each attempt moves on to the next one.
func (c *client) nextEndpoint() *url.URL {
	c.mu.Lock()
	defer c.mu.Unlock()
	base := c.endpoints[c.next%len(c.endpoints)]
	c.next++
	return base
}

// warnUnreachable tells once, after every master was tried and none could be reached, that
// the CLI keeps trying: without it a wrong -z is four minutes of silence.
func (c *client) warnUnreachable(errs []error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.warned || c.warn == nil {
		return
	}
	c.warned = true
	for _, err := range errs {
		c.warn("%s", unreachable(err))
	}
	c.warn("still trying until --retry-timeout (%s); press Ctrl-C to stop", c.retryTimeout)
}

// unreachable names the master and the reason of a connection failure.
func unreachable(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		addr := ue.URL
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.Path, u.RawQuery = "", ""
			addr = u.Redacted()
		}
		return fmt.Sprintf("master %s is unreachable: %v", addr, ue.Err)
	}
	return fmt.Sprintf("master unreachable: %v", err)
}

// moveJobToken takes a job's ?token= out of a URL, to send it in the Helios-Job-Token
// header instead: URLs end up in logs (ours with -v, proxies'), headers less so.
func moveJobToken(raw string) (string, string) {
	u, err := url.Parse(raw)
	if err != nil {
		return raw, ""
	}
	q := u.Query()
	token := q.Get("token")
	if token == "" {
		return raw, ""
	}
	q.Del("token")
	u.RawQuery = q.Encode()
	return u.String(), token
}

// once1 is a single HTTP exchange.
func (c *client) once1(ctx context.Context, method, u string, body []byte) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	u, jobToken := moveJobToken(u)
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	if jobToken != "" {
		req.Header.Set(model.HeaderJobToken, jobToken)
	}
	req.Header.Set(model.HeaderClientVersion, model.Version)
	req.Header.Set("Accept", "application/json")
	if c.authToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.authToken)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log("%s %s: %v", method, u, err)
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read response of %s %s: %w", method, u, err)
	}
	c.log("%s %s -> %d (%s)", method, u, resp.StatusCode, time.Since(start).Round(time.Millisecond))
	return resp.StatusCode, resp.Header, data, nil
}

// getJSON fetches path and decodes a 2xx answer into out; other answers become apiErrors.
func (c *client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	code, data, err := c.do(ctx, method, path, query, in)
	if err != nil {
		return err
	}
	if code < 200 || code > 299 {
		return decodeError(code, data)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
	}
	return nil
}

// decodeError reads a master's error body: {status, message} or {status, errors}.
func decodeError(code int, data []byte) *apiError {
	var e apiError
	if json.Unmarshal(data, &e) != nil || e.Status == "" {
		e = apiError{Status: fmt.Sprintf("HTTP_%d", code), Message: string(bytes.TrimSpace(data))}
	}
	if e.Message == "" && len(e.Errors) > 0 {
		e.Message = e.Errors[0]
		for _, m := range e.Errors[1:] {
			e.Message += "; " + m
		}
	}
	e.Code = code
	return &e
}

// isStatus tells whether err is an apiError carrying the status word.
func isStatus(err error, status string) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == status
}

// defaultRetryDelay waits 1 s, then 2, 3, 4, and 5 s between later attempts.
func defaultRetryDelay(attempt int) time.Duration {
	if attempt >= 4 {
		return 5 * time.Second
	}
	return time.Duration(attempt+1) * time.Second
}
