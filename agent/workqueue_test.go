package agent

import (
	"context"
	"testing"
	"time"
)

func TestWorkQueueCollapsesDuplicateAdds(t *testing.T) {
	q := newWorkQueue[string]()
	q.Add("a")
	q.Add("b")
	q.Add("a")
	if n := q.Len(); n != 2 {
		t.Fatalf("Len = %d after adding a, b, a; want 2", n)
	}
	ctx := context.Background()
	if k, _ := q.Get(ctx); k != "a" {
		t.Fatalf("first Get = %q, want a", k)
	}
	if k, _ := q.Get(ctx); k != "b" {
		t.Fatalf("second Get = %q, want b", k)
	}
}

func TestWorkQueueNeverHandsOutAnActiveKey(t *testing.T) {
	q := newWorkQueue[string]()
	ctx := context.Background()
	q.Add("a")
	k, _ := q.Get(ctx)
	q.Add("a") // while active: held back
	q.Add("a")
	if n := q.Len(); n != 0 {
		t.Fatalf("Len = %d while a is active, want 0", n)
	}
	q.Done(k)
	if n := q.Len(); n != 1 {
		t.Fatalf("Len = %d after Done, want 1 (the adds collapsed)", n)
	}
	q.Done("a") // no-op for a key not active
	if k, _ := q.Get(ctx); k != "a" {
		t.Fatalf("Get = %q, want a", k)
	}
}

func TestWorkQueueGetWaitsAndEndsWithCtx(t *testing.T) {
	q := newWorkQueue[string]()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string)
	go func() {
		k, _ := q.Get(ctx)
		got <- k
	}()
	q.Add("x")
	if k := <-got; k != "x" {
		t.Fatalf("Get = %q, want x", k)
	}
	cancel()
	if _, ok := q.Get(ctx); ok {
		t.Fatal("Get returned a key after ctx ended")
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond}, {5, time.Second}, {50, time.Second}, {0, 100 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := backoff(tc.n, 100*time.Millisecond, time.Second); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}
