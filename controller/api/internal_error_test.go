package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

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
	e.expect(response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()},
		http.StatusInternalServerError, model.StatusInternalError, nil)
	if n := logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 1 {
		t.Fatalf("got %d error logs, want 1: %v", n, logs.All())
	}
}
