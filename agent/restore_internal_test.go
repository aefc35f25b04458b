package agent

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

func TestRestoreVerdict(t *testing.T) {
	tests := []struct {
		name        string
		seen        int64
		suspected   bool
		g           generation
		wantSuspect bool
		wantKeep    int64
	}{
		{"first generation seen is adopted", 0, false, generation{modRev: 7, registered: true}, false, 7},
		{"a newer generation is adopted", 7, false, generation{modRev: 9, registered: true}, false, 9},
		{"the same generation", 9, false, generation{modRev: 9, registered: true}, false, 9},
		{"an older generation is a restore", 9, false, generation{modRev: 5, registered: true}, true, 9},
		{"no generation while registered is a restore", 9, false, generation{registered: true}, true, 9},
		{"no generation ever (masters predate it): no guard", 0, false, generation{registered: true}, false, 0},
		{"deregistered host: nothing to guard", 9, false, generation{}, false, 9},
		{"operator accepted: past the seen one", 9, false, generation{modRev: 1_000_020, registered: true}, false, 1_000_020},
		{"suspected: a deploy after the restore does not end it", 9, true, generation{modRev: 1_000_030, registered: true, accepted: 4}, true, 9},
		{"suspected: an acceptance before the agent's generation does not end it", 9, true, generation{modRev: 1_000_030, registered: true, accepted: 9}, true, 9},
		{"suspected: accepted after it", 9, true, generation{modRev: 1_000_030, registered: true, accepted: 1_000_030}, false, 1_000_030},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			suspect, keep := restoreVerdict(tt.seen, tt.suspected, tt.g)
			if suspect != tt.wantSuspect || keep != tt.wantKeep {
				t.Errorf("restoreVerdict(%d, %v, %+v) = %v, %d; want %v, %d", tt.seen, tt.suspected, tt.g, suspect, keep, tt.wantSuspect, tt.wantKeep)
			}
		})
	}
}

// TestPlanAfterRestoreKeepsEveryContainer: etcd's past state has no deployment of the job
// deployed after the snapshot, wants another stopped and a third on an older spec; held,
// the plan touches none of their containers, and still restarts an exited one.
func TestPlanAfterRestoreKeepsEveryContainer(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	newer, stopped, respec, exited := model.JobID("newer:1"), model.JobID("stopped:1"), model.JobID("respec:1"), model.JobID("exited:1")
	ctr := func(cid string, id model.JobID, hash string, running bool) Container {
		c := Container{ID: cid, Running: running, Created: now.Add(-time.Hour),
			Labels: map[string]string{LabelHost: "h", LabelJobID: string(id), LabelSpecHash: hash}}
		if !running {
			c.FinishedAt = now.Add(-time.Minute)
		}
		return c
	}
	job := func(id model.JobID) *model.Job { return &model.Job{ID: id, Image: "img"} }
	in := planInput{
		Desired: map[model.JobID]desiredTask{
			stopped: {Job: job(stopped), Goal: model.GoalStop, SpecHash: "h"},
			respec:  {Job: job(respec), Goal: model.GoalStart, SpecHash: "old"},
			exited:  {Job: job(exited), Goal: model.GoalStart, SpecHash: "h"},
		},
		Containers: []Container{ctr("c-newer", newer, "h", true), ctr("c-stopped", stopped, "h", true),
			ctr("c-respec", respec, "h", true), ctr("c-exited", exited, "h", false)},
		Reported: map[model.JobID]model.TaskStatus{newer: {State: model.StateRunning, ContainerID: "c-newer", Goal: model.GoalStart}},
		Now:      now, RestartDelay: time.Second,
	}
	all := plan(in)
	kept, held := splitForRestore(all)
	if len(held) != 3 {
		t.Fatalf("held %v, want the removal of newer, the stop of stopped and the replacement of respec", held)
	}
	for _, act := range kept {
		if act.Kind == actRemove || act.Kind == actStop || act.Kind == actWithdraw || act.Kind == actDeleteStatus ||
			(act.Kind == actStart && act.ContainerID != "c-exited") {
			t.Errorf("kept %v during a suspected restore", act)
		}
	}
	if !slices.ContainsFunc(kept, func(a action) bool { return a.Kind == actStart && a.ContainerID == "c-exited" }) {
		t.Errorf("kept %v, want the restart of the exited container", kept)
	}
	if len(kept)+len(held) != len(all) {
		t.Errorf("split %d actions into %d kept and %d held", len(all), len(kept), len(held))
	}
}

func TestRestoreGuardKeepsTheGenerationOnDisk(t *testing.T) {
	dir := t.TempDir()
	r, err := loadRestoreGuard(dir)
	if err != nil {
		t.Fatal(err)
	}
	if suspect, _, _, _ := r.check(generation{modRev: 40, registered: true}); suspect {
		t.Fatal("first generation suspected")
	}
	// A new agent on the same state dir, after etcd was restored to generation 30.
	r, err = loadRestoreGuard(dir)
	if err != nil {
		t.Fatal(err)
	}
	suspect, changed, seen, err := r.check(generation{modRev: 30, registered: true})
	if err != nil || !suspect || !changed || seen != 40 {
		t.Errorf("after restart: suspect %v changed %v seen %d err %v; want true true 40", suspect, changed, seen, err)
	}
	// Restarted again while suspected; a deploy moved the generation past 40: still held.
	if r, err = loadRestoreGuard(dir); err != nil {
		t.Fatal(err)
	}
	if suspect, _, _, _ := r.check(generation{modRev: 45, registered: true}); !suspect {
		t.Error("a restarted agent forgot the suspected restore once a deploy moved the generation")
	}
	if suspect, changed, _, _ := r.check(generation{modRev: 50, registered: true, accepted: 50}); suspect || !changed {
		t.Errorf("accepted: suspect %v changed %v, want false true", suspect, changed)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, generationFile)); string(b) != "50\n" {
		t.Errorf("generation file %q, want 50", b)
	}
	if err := os.WriteFile(filepath.Join(dir, generationFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadRestoreGuard(dir); !errors.Is(err, errBadGeneration) {
		t.Errorf("garbage generation file: %v, want errBadGeneration", err)
	}
}

func TestParseGeneration(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		suspect bool
		ok      bool
	}{
		{"0", 0, false, true}, {"42\n", 42, false, true}, {"9223372036854775807", 1<<63 - 1, false, true},
		{"42 suspect\n", 42, true, true}, {"7 suspect", 7, true, true},
		{"", 0, false, false}, {"\n", 0, false, false}, {"-1", 0, false, false}, {"+1", 0, false, false}, {" 1", 0, false, false},
		{"1\n\n", 0, false, false}, {"0x10", 0, false, false}, {"9223372036854775808", 0, false, false}, {"1.5", 0, false, false},
		{"suspect", 0, false, false}, {" suspect", 0, false, false}, {"4 Suspect", 0, false, false}, {"4 suspect suspect", 0, false, false},
	}
	for _, tt := range tests {
		got, suspect, err := parseGeneration([]byte(tt.in))
		if (err == nil) != tt.ok || got != tt.want || suspect != tt.suspect {
			t.Errorf("parseGeneration(%q) = %d, %v, %v; want %d, %v, ok %v", tt.in, got, suspect, err, tt.want, tt.suspect, tt.ok)
		}
		if err != nil && !errors.Is(err, errBadGeneration) {
			t.Errorf("parseGeneration(%q): %v does not wrap errBadGeneration", tt.in, err)
		}
	}
}

func FuzzParseGeneration(f *testing.F) {
	for _, s := range []string{"0", "42\n", "-1", "", "99999999999999999999"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, suspect, err := parseGeneration(b)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("parseGeneration(%q) = %d, negative", b, n)
		}
		back, backSuspect, err := parseGeneration(formatGeneration(n, suspect))
		if err != nil || back != n || backSuspect != suspect {
			t.Fatalf("round trip of %d, %v: %d, %v, %v", n, suspect, back, backSuspect, err)
		}
	})
}

func TestWantReport(t *testing.T) {
	var r restoreReport
	t0 := time.UnixMilli(1_000)
	r.wantReport(true, 30, 40, 3, true, t0)
	if w := r.wanted; w == nil || *w != (model.RestoreSuspicion{EtcdGeneration: 30, AgentGeneration: 40, Since: 1_000, HeldActions: 3}) {
		t.Fatalf("first suspicion: %+v", w)
	}
	// A partial pass keeps the full pass's count; a deploy moves etcd's generation; the
	// since stays that of the start of the suspicion.
	r.wantReport(true, 50, 40, 1, false, t0.Add(time.Minute))
	if w := r.wanted; *w != (model.RestoreSuspicion{EtcdGeneration: 50, AgentGeneration: 40, Since: 1_000, HeldActions: 3}) {
		t.Errorf("after a partial pass: %+v", w)
	}
	r.wantReport(false, 60, 60, 0, true, t0.Add(2*time.Minute))
	if r.wanted != nil {
		t.Errorf("accepted: still wanted %+v", r.wanted)
	}
	r.wantReport(true, 10, 60, 0, true, t0.Add(3*time.Minute))
	if r.wanted.Since != t0.Add(3*time.Minute).UnixMilli() {
		t.Errorf("a new suspicion kept the old since: %+v", r.wanted)
	}
}

func TestSameReport(t *testing.T) {
	a := &model.RestoreSuspicion{EtcdGeneration: 1, AgentGeneration: 2, Since: 3, HeldActions: 4}
	tests := []struct {
		x, y *model.RestoreSuspicion
		want bool
	}{
		{nil, nil, true}, {a, nil, false}, {nil, a, false}, {a, a, true},
		{a, &model.RestoreSuspicion{EtcdGeneration: 1, AgentGeneration: 2, Since: 99, HeldActions: 4}, true},
		{a, &model.RestoreSuspicion{EtcdGeneration: 1, AgentGeneration: 2, Since: 3, HeldActions: 5}, false},
		{a, &model.RestoreSuspicion{EtcdGeneration: 7, AgentGeneration: 2, Since: 3, HeldActions: 4}, false},
		{a, &model.RestoreSuspicion{}, false},
	}
	for i, tt := range tests {
		if got := sameReport(tt.x, tt.y); got != tt.want {
			t.Errorf("%d: sameReport(%+v, %+v) = %v, want %v", i, tt.x, tt.y, got, tt.want)
		}
	}
}
