package agent

import (
	"sync"
	"time"

	"github.com/helios-go/helios/model"
)

// wakeSet says what the next reconcile pass covers. Most wakes name a job (its deployment
// changed, its container started or died, its worker finished, its restart delay ran out),
// and a pass for a few jobs lists only their containers. A pass over everything (at start,
// at each resync, after the events stream was broken) lists all of the host's containers.
// Wakes collapse: any number of them before a pass make one pass.
type wakeSet struct {
	mu     sync.Mutex
	all    bool
	jobs   map[model.JobID]bool
	timers map[model.JobID]time.Time // a job to wake at a time
	allAt  time.Time                 // a pass over everything at a time (zero: none)
	poke   chan struct{}
}

func newWakeSet() *wakeSet {
	return &wakeSet{jobs: map[model.JobID]bool{}, timers: map[model.JobID]time.Time{}, poke: make(chan struct{}, 1)}
}

func (w *wakeSet) signal() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// job asks for a pass over job id.
func (w *wakeSet) job(id model.JobID) {
	w.mu.Lock()
	w.jobs[id] = true
	w.mu.Unlock()
	w.signal()
}

// everything asks for a pass over all jobs and containers.
func (w *wakeSet) everything() {
	w.mu.Lock()
	w.all = true
	w.mu.Unlock()
	w.signal()
}

// jobAfter wakes job id after d (the earliest of several such requests wins).
func (w *wakeSet) jobAfter(id model.JobID, d time.Duration) {
	at := time.Now().Add(d)
	w.mu.Lock()
	defer w.mu.Unlock()
	if old, ok := w.timers[id]; !ok || at.Before(old) {
		w.timers[id] = at
	}
}

// everythingAfter asks for a pass over everything after d.
func (w *wakeSet) everythingAfter(d time.Duration) {
	at := time.Now().Add(d)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.allAt.IsZero() || at.Before(w.allAt) {
		w.allAt = at
	}
}

// peek returns how long until the next timer is due (0: none), taking nothing.
func (w *wakeSet) peek(now time.Time) (all bool, jobs map[model.JobID]bool, next time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all, w.jobs, w.nextLocked(now)
}

// take returns what the next pass covers (timers due by now included) and clears it, and
// how long until the next timer is due (0: none).
func (w *wakeSet) take(now time.Time) (all bool, jobs map[model.JobID]bool, next time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.allAt.IsZero() && !now.Before(w.allAt) {
		w.all, w.allAt = true, time.Time{}
	}
	for id, at := range w.timers {
		if !now.Before(at) {
			w.jobs[id] = true
			delete(w.timers, id)
		}
	}
	all, jobs = w.all, w.jobs
	w.all, w.jobs = false, map[model.JobID]bool{}
	if all {
		jobs = nil
	}
	return all, jobs, w.nextLocked(now)
}

func (w *wakeSet) nextLocked(now time.Time) time.Duration {
	var earliest time.Time
	for _, at := range w.timers {
		if earliest.IsZero() || at.Before(earliest) {
			earliest = at
		}
	}
	if !w.allAt.IsZero() && (earliest.IsZero() || w.allAt.Before(earliest)) {
		earliest = w.allAt
	}
	if earliest.IsZero() {
		return 0
	}
	return max(earliest.Sub(now), time.Millisecond)
}
