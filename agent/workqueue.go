package agent

import (
	"context"
	"sync"
	"time"
)

// workQueue hands out keys to work on, as client-go's work queue does: a key added while
// queued is queued once (duplicate wakes collapse), and a key added while being worked on
// is queued again only when its worker is Done, so no key is ever worked on twice at once.
type workQueue[K comparable] struct {
	mu     sync.Mutex
	order  []K
	queued map[K]bool
	active map[K]bool
	dirty  map[K]bool // added while active
	wake   chan struct{}
}

func newWorkQueue[K comparable]() *workQueue[K] {
	return &workQueue[K]{queued: map[K]bool{}, active: map[K]bool{}, dirty: map[K]bool{}, wake: make(chan struct{}, 1)}
}

// Add queues k unless it is queued already.
func (q *workQueue[K]) Add(k K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.queued[k]:
	case q.active[k]:
		q.dirty[k] = true
	default:
		q.queued[k] = true
		q.order = append(q.order, k)
		q.signal()
	}
}

func (q *workQueue[K]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Get waits for a key and marks it active; false when ctx ended.
func (q *workQueue[K]) Get(ctx context.Context) (K, bool) {
	for {
		q.mu.Lock()
		if len(q.order) > 0 {
			k := q.order[0]
			q.order = q.order[1:]
			delete(q.queued, k)
			q.active[k] = true
			if len(q.order) > 0 {
				q.signal() // let another getter in
			}
			q.mu.Unlock()
			return k, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			var zero K
			return zero, false
		case <-q.wake:
		}
	}
}

// Done ends the work on k, queueing it again if it was added meanwhile.
func (q *workQueue[K]) Done(k K) {
	q.mu.Lock()
	delete(q.active, k)
	again := q.dirty[k]
	delete(q.dirty, k)
	q.mu.Unlock()
	if again {
		q.Add(k)
	}
}

// Len is the number of keys waiting.
func (q *workQueue[K]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order)
}

// backoff is the delay before the n-th retry (n >= 1): base, doubling, at most limit
// (controller-runtime's RequeueAfter on error, without the flat retry).
func backoff(n int, base, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
