package model

import (
	"reflect"
	"testing"
)

func TestPlanRolloutNormalBatches(t *testing.T) {
	got := PlanRollout([]string{"web10", "web2", "web1"}, 2, false)
	want := []RolloutTask{
		{Action: ActionUndeployOldJobs, Target: "web1"}, {Action: ActionDeployNewJob, Target: "web1"},
		{Action: ActionUndeployOldJobs, Target: "web2"}, {Action: ActionDeployNewJob, Target: "web2"},
		{Action: ActionAwaitRunning, Target: "web1"}, {Action: ActionAwaitRunning, Target: "web2"},
		{Action: ActionUndeployOldJobs, Target: "web10"}, {Action: ActionDeployNewJob, Target: "web10"},
		{Action: ActionAwaitRunning, Target: "web10"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("plan:\n got %v\nwant %v", got, want)
	}
}

func TestPlanRolloutOverlapBatches(t *testing.T) {
	got := PlanRollout([]string{"b", "a", "c"}, 2, true)
	want := []RolloutTask{
		{Action: ActionDeployNewJob, Target: "a"}, {Action: ActionDeployNewJob, Target: "b"},
		{Action: ActionAwaitRunning, Target: "a"}, {Action: ActionAwaitRunning, Target: "b"},
		{Action: ActionUndeployOldJobs, Target: "a"}, {Action: ActionUndeployOldJobs, Target: "b"},
		{Action: ActionDeployNewJob, Target: "c"}, {Action: ActionAwaitRunning, Target: "c"}, {Action: ActionUndeployOldJobs, Target: "c"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("plan:\n got %v\nwant %v", got, want)
	}
}

func TestPlanRolloutEdges(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hosts []string
		par   int
		want  int
	}{
		{"no hosts", nil, 1, 0},
		{"parallelism zero is one", []string{"a", "b"}, 0, 6},
		{"parallelism above host count", []string{"a", "b"}, 10, 6},
		{"serial", []string{"a", "b", "c"}, 1, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanRollout(tc.hosts, tc.par, false)
			if len(got) != tc.want {
				t.Fatalf("%d tasks, want %d: %v", len(got), tc.want, got)
			}
			if tc.name == "serial" && got[2] != (RolloutTask{Action: ActionAwaitRunning, Target: "a"}) {
				t.Fatalf("serial plan must await a before touching b: %v", got)
			}
		})
	}
	in := []string{"b", "a"}
	PlanRollout(in, 1, false)
	if in[0] != "b" {
		t.Fatal("PlanRollout reordered its caller's slice")
	}
}

func TestNaturalLess(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"host2", "host10", true},
		{"host10", "host2", false},
		{"a", "b", true},
		{"a", "a", false},
		{"a", "a1", true},
		{"a1b2", "a1b10", true},
		{"x02", "x2", false}, // equal value: shorter run first
		{"x2", "x02", true},
		{"99999999999999999999999", "100000000000000000000000", true},
		{"web-1.example", "web-1.example", false},
		{"1", "a", true},
	} {
		if got := NaturalLess(tc.a, tc.b); got != tc.want {
			t.Errorf("NaturalLess(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func FuzzNaturalLess(f *testing.F) {
	f.Add("host2", "host10")
	f.Add("x02", "x2")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := NaturalLess(a, b), NaturalLess(b, a)
		if ab && ba {
			t.Fatalf("both %q < %q and %q < %q", a, b, b, a)
		}
		if a == b && ab {
			t.Fatalf("%q < itself", a)
		}
		if a != b && !ab && !ba {
			t.Fatalf("%q and %q are distinct but neither sorts first", a, b)
		}
	})
}
