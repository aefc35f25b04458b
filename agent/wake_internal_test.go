package agent

import (
	"testing"
	"time"
)

func TestWakeSetCollapsesAndTimes(t *testing.T) {
	w := newWakeSet()
	w.job("a")
	w.job("a")
	w.job("b")
	all, jobs, next := w.take(time.Now())
	if all || len(jobs) != 2 || !jobs["a"] || !jobs["b"] || next != 0 {
		t.Fatalf("take = %v %v %v; want jobs a and b once each, no timer", all, jobs, next)
	}
	if all, jobs, _ := w.take(time.Now()); all || len(jobs) != 0 {
		t.Fatalf("second take = %v %v; want nothing", all, jobs)
	}

	now := time.Now()
	w.jobAfter("c", time.Hour)
	w.jobAfter("c", time.Minute) // the earliest wins
	w.jobAfter("d", 2*time.Hour)
	if _, jobs, next := w.take(now); len(jobs) != 0 || next <= 0 || next > time.Minute+time.Second {
		t.Fatalf("take before the timers = %v next %v; want nothing, next within a minute", jobs, next)
	}
	if _, jobs, next := w.take(now.Add(90 * time.Minute)); len(jobs) != 1 || !jobs["c"] || next <= 0 {
		t.Fatalf("take after c's timer = %v next %v; want c, d still pending", jobs, next)
	}

	w.job("e")
	w.everything()
	if all, jobs, _ := w.take(time.Now()); !all || jobs != nil {
		t.Fatalf("take after everything() = %v %v; want all, no job list", all, jobs)
	}
	w.everythingAfter(time.Second)
	if all, _, _ := w.take(time.Now().Add(2 * time.Second)); !all {
		t.Fatal("everythingAfter did not come due")
	}
}
