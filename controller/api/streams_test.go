package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
)

// openOrRefuse opens a job watch and returns it, or the refusal's status code and body.
func openOrRefuse(t *testing.T, e *env, id model.JobID) (*stream, int, model.ErrorResponse) {
	t.Helper()
	s := e.openWatch(e.srv.URL, "/jobs/"+string(id)+"/watch")
	if s.resp.StatusCode == http.StatusOK {
		return s, http.StatusOK, model.ErrorResponse{}
	}
	s.stop()
	var er model.ErrorResponse
	body := strings.Join(drain(s), "\n")
	_ = json.Unmarshal([]byte(body), &er)
	return nil, s.resp.StatusCode, er
}

func drain(s *stream) []string {
	var out []string
	for l := range s.lines {
		out = append(out, l)
	}
	return out
}

func TestWatchStreamsArePerClientCapped(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxStreams, c.MaxStreamsPerClient = 100, 2 })
	id := e.createJob(watchJobJSON)
	first, code, _ := openOrRefuse(t, e, id)
	_, code2, _ := openOrRefuse(t, e, id)
	if code != http.StatusOK || code2 != http.StatusOK {
		t.Fatalf("the first two streams: %d and %d, want 200", code, code2)
	}
	_, code, er := openOrRefuse(t, e, id)
	if code != http.StatusTooManyRequests || er.Status != model.StatusTooManyStreams || !strings.Contains(er.Message, "per client") {
		t.Fatalf("a third stream from one client: %d %+v, want 429 TOO_MANY_STREAMS naming the per-client limit", code, er)
	}
	// Closing one frees its place.
	first.stop()
	drain(first)
	waitFor(t, "the first stream's handler to return", func() bool { return openStreams(t, e) == 1 })
	if _, code, _ := openOrRefuse(t, e, id); code != http.StatusOK {
		t.Fatalf("after closing one, a new stream: %d, want 200", code)
	}
}

func TestWatchStreamsAreCappedInAll(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxStreams, c.MaxStreamsPerClient = 1, 100 })
	id := e.createJob(watchJobJSON)
	if _, code, _ := openOrRefuse(t, e, id); code != http.StatusOK {
		t.Fatalf("the first stream: %d", code)
	}
	_, code, er := openOrRefuse(t, e, id)
	if code != http.StatusTooManyRequests || !strings.Contains(er.Message, "--max-watch-streams") {
		t.Fatalf("a stream past the master's limit: %d %+v, want 429 naming --max-watch-streams", code, er)
	}
	// Group watches count against the same limit.
	e.do("POST", "/deployment-group", `{"name":"g","hostSelectors":[{"label":"a","operator":"EQUALS","operand":["b"]}]}`)
	resp, err := http.Get(e.srv.URL + "/deployment-group/g/watch")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a group watch past the limit: %d, want 429", resp.StatusCode)
	}
}
