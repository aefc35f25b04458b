package model

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDeploymentGroupJSONWritesJobIDAndReadsBothKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want JobID
	}{
		{"original's key job", `{"name":"g","hostSelectors":[],"job":"foo:1"}`, "foo:1"},
		{"our key jobId", `{"name":"g","hostSelectors":[],"jobId":"foo:2"}`, "foo:2"},
		{"jobId wins over job", `{"name":"g","hostSelectors":[],"job":"foo:1","jobId":"foo:2"}`, "foo:2"},
		{"neither", `{"name":"g","hostSelectors":[]}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g DeploymentGroup
			if err := json.Unmarshal([]byte(tc.in), &g); err != nil {
				t.Fatalf("unmarshal %s: %v", tc.in, err)
			}
			if g.JobID != tc.want || g.Name != "g" {
				t.Fatalf("got name %q job %q, want g %q", g.Name, g.JobID, tc.want)
			}
		})
	}
	out, err := json.Marshal(DeploymentGroup{Name: "g", HostSelectors: []HostSelector{}, JobID: "foo:1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"jobId":"foo:1"`) || strings.Contains(string(out), `"job":`) {
		t.Fatalf("marshal = %s, want the job under jobId only", out)
	}
}

func TestDeploymentGroupJSONLeavesOutUnsetFields(t *testing.T) {
	out, err := json.Marshal(DeploymentGroup{Name: "g", HostSelectors: []HostSelector{}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), `{"name":"g","hostSelectors":[]}`; got != want {
		t.Fatalf("marshal = %s, want %s (the original's NON_NULL)", got, want)
	}
}

func TestDeploymentGroupJSONRejectsBadInput(t *testing.T) {
	for _, in := range []string{`[1]`, `{"name":1}`, `{"job":3}`, `{`} {
		var g DeploymentGroup
		if err := json.Unmarshal([]byte(in), &g); err == nil {
			t.Errorf("unmarshal %s: no error, got %+v", in, g)
		}
	}
}

func TestSameSelectorsComparesInOrder(t *testing.T) {
	a := HostSelector{Label: "a", Operator: OpEquals, Operand: []string{"1"}}
	b := HostSelector{Label: "b", Operator: OpIn, Operand: []string{"x", "y"}}
	for _, tc := range []struct {
		name string
		x, y []HostSelector
		want bool
	}{
		{"equal", []HostSelector{a, b}, []HostSelector{a, b}, true},
		{"both empty", nil, []HostSelector{}, true},
		{"other order", []HostSelector{a, b}, []HostSelector{b, a}, false},
		{"one more", []HostSelector{a}, []HostSelector{a, b}, false},
		{"other operand order", []HostSelector{b}, []HostSelector{{Label: "b", Operator: OpIn, Operand: []string{"y", "x"}}}, false},
		{"other operator", []HostSelector{a}, []HostSelector{{Label: "a", Operator: OpNotEquals, Operand: []string{"1"}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, y := DeploymentGroup{Name: "g", HostSelectors: tc.x}, DeploymentGroup{Name: "h", JobID: "j:1", HostSelectors: tc.y}
			if got := x.SameSelectors(y); got != tc.want {
				t.Fatalf("SameSelectors = %v, want %v", got, tc.want)
			}
			if got := y.SameSelectors(x); got != tc.want {
				t.Fatalf("SameSelectors reversed = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidateDeploymentGroupName(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wantErr string
	}{
		{"foo-group", ""},
		{"a.b_c-D9", ""},
		{strings.Repeat("x", 255), ""},
		{"", "must be non-empty"},
		{"foo group", "only contain characters"},
		{"foo/bar", "only contain characters"},
		{"foo:1", "only contain characters"},
		{"é", "only contain characters"},
		{strings.Repeat("x", 256), "256 characters, at most 255"},
	} {
		err := ValidateDeploymentGroupName(tc.name)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("ValidateDeploymentGroupName(%.20q) = %v, want nil", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ValidateDeploymentGroupName(%.20q) = %v, want an error containing %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestValidateNewDeploymentGroup(t *testing.T) {
	eq := HostSelector{Label: "foo", Operator: OpEquals, Operand: []string{"bar"}}
	for _, tc := range []struct {
		name string
		g    DeploymentGroup
		want []string // one substring per expected problem, in order
	}{
		{"valid", DeploymentGroup{Name: "g", HostSelectors: []HostSelector{eq}}, nil},
		{"every operator", DeploymentGroup{Name: "g", HostSelectors: []HostSelector{
			eq, {Label: "a", Operator: OpNotEquals, Operand: []string{"b"}},
			{Label: "c", Operator: OpIn, Operand: []string{"x", "y"}}, {Label: "d", Operator: OpNotIn, Operand: []string{"z"}},
		}}, nil},
		{"bad name", DeploymentGroup{Name: "a b", HostSelectors: []HostSelector{eq}}, []string{"invalid deployment group name"}},
		{"no selectors", DeploymentGroup{Name: "g"}, []string{"at least one host selector"}},
		{"unknown operator", DeploymentGroup{Name: "g", HostSelectors: []HostSelector{{Label: "a", Operator: "LIKE", Operand: []string{"b"}}}}, []string{"invalid host selector 1"}},
		{"no operand", DeploymentGroup{Name: "g", HostSelectors: []HostSelector{eq, {Label: "a", Operator: OpIn}}}, []string{"invalid host selector 2"}},
		{"bad label", DeploymentGroup{Name: "g", HostSelectors: []HostSelector{{Label: "a b", Operator: OpEquals, Operand: []string{"c"}}}}, []string{"invalid host selector 1"}},
		{"bad value", DeploymentGroup{Name: "g", HostSelectors: []HostSelector{{Label: "a", Operator: OpIn, Operand: []string{"x y"}}}}, []string{"invalid host selector 1"}},
		// Shown as "a = bc" while matching a=b or a=c: an equality has exactly one value.
		{"equality with two values", DeploymentGroup{Name: "g", HostSelectors: []HostSelector{{Label: "a", Operator: OpEquals, Operand: []string{"b", "c"}}}}, []string{"invalid host selector 1"}},
		{"job set at creation", DeploymentGroup{Name: "g", HostSelectors: []HostSelector{eq}, JobID: "foo:1"}, []string{"jobId is set by rolling-update"}},
		{"everything wrong", DeploymentGroup{Name: "", JobID: "x:1"}, []string{"invalid deployment group name", "at least one host selector", "jobId"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ValidateNewDeploymentGroup(tc.g)
			if len(got) != len(tc.want) {
				t.Fatalf("problems = %q, want %d matching %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestReportedStateIsIdleBeforeAnyRollout(t *testing.T) {
	for _, tc := range []struct {
		s    *GroupStatus
		want GroupState
	}{
		{&GroupStatus{}, GroupIdle},
		{&GroupStatus{State: GroupRollingOut}, GroupRollingOut},
		{&GroupStatus{State: GroupDone}, GroupDone},
		{&GroupStatus{State: GroupFailed}, GroupFailed},
		{&GroupStatus{State: GroupPaused}, GroupPaused},
	} {
		if got := tc.s.ReportedState(); got != tc.want {
			t.Errorf("ReportedState(%+v) = %s, want %s", tc.s, got, tc.want)
		}
	}
}
