package agent

import (
	"time"

	"github.com/helios-go/helios/model"
)

// Flapping, as the original: a task whose last FlappingRuns runs lasted less than
// FlappingWindow in total is restarted only after FlappingRestartDelay and reported with
// throttled FLAPPING, until a run lasts long enough to lift the total over the window.

// runLog keeps the durations of a job's last runs, oldest first.
type runLog struct {
	runs []time.Duration
	seen map[string]bool // containers whose run is recorded
}

// record adds the run of an exited container once; keep bounds the log.
func (l *runLog) record(c Container, keep int) {
	if c.Running || c.StartedAt.IsZero() || c.FinishedAt.IsZero() || l.seen[c.ID] {
		return
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	l.seen[c.ID] = true
	l.runs = append(l.runs, max(c.FinishedAt.Sub(c.StartedAt), 0))
	if len(l.runs) > keep {
		l.runs = l.runs[len(l.runs)-keep:]
	}
}

// forget drops the seen marks of containers no longer there.
func (l *runLog) forget(present map[string]bool) {
	for id := range l.seen {
		if !present[id] {
			delete(l.seen, id)
		}
	}
}

// flapping tells whether a task flaps: its last n completed runs total less than window.
// While a run goes on (current >= 0, how long it has lasted so far) it counts too, so the
// throttle clears by itself once the last n runs, the current one included, reach window;
// the second result is then how long until they do.
func flapping(runs []time.Duration, current time.Duration, n int, window time.Duration) (bool, time.Duration) {
	sum := func(ds []time.Duration) time.Duration {
		var t time.Duration
		for _, d := range ds[len(ds)-n:] {
			t += d
		}
		return t
	}
	if n <= 0 || len(runs) < n || sum(runs) >= window {
		return false, 0
	}
	if current < 0 {
		return true, 0
	}
	total := sum(append(append([]time.Duration(nil), runs...), current))
	if total >= window {
		return false, 0
	}
	return true, window - total
}

// throttleOf is the task's throttle: an image failure wins over flapping.
func throttleOf(image model.ThrottleState, flap bool) model.ThrottleState {
	switch {
	case image != "" && image != model.ThrottleNo:
		return image
	case flap:
		return model.ThrottleFlapping
	}
	return model.ThrottleNo
}
