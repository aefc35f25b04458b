package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// brokenStore is a real store whose job listing fails in a way the API cannot name.
type brokenStore struct {
	Store
}

func (brokenStore) ListJobsPage(context.Context, store.JobsQuery) (store.JobsPage, error) {
	return store.JobsPage{}, errors.New("list jobs: disk on fire")
}

func TestUnexpectedStoreErrorIs500AndLoggedOnce(t *testing.T) {
	e := newEnv(t)
	core, logs := observer.New(zapcore.InfoLevel)
	h, err := New(Config{Store: brokenStore{e.store}, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/jobs", nil))
	var er model.ErrorResponse
	e.expect(response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()},
		http.StatusInternalServerError, model.StatusInternalError, &er)
	errs := logs.FilterLevelExact(zapcore.ErrorLevel).All()
	if len(errs) != 1 {
		t.Fatalf("got %d error logs, want 1: %v", len(errs), logs.All())
	}
	// The details stay in the log; the answer carries the id that finds them there.
	if strings.Contains(er.Message, "disk on fire") {
		t.Errorf("the answer leaks the error's details: %q", er.Message)
	}
	id, _ := errs[0].ContextMap()["request-id"].(string)
	if id == "" || !strings.Contains(er.Message, id) {
		t.Errorf("answer %q and log %v do not share a request id", er.Message, errs[0].ContextMap())
	}
}

// A request whose own deadline passes while etcd answers is 504, not 503: etcd is
// reachable, and a write may have happened.
func TestExpiredRequestDeadlineIs504(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RequestDeadline = time.Nanosecond })
	var er model.ErrorResponse
	e.expect(e.do("GET", "/jobs", nil), http.StatusGatewayTimeout, model.StatusGatewayTimeout, &er)
	if !strings.Contains(er.Message, "deadline") {
		t.Fatalf("504 message %q does not say what happened", er.Message)
	}
}
