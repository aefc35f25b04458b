package robustness

import (
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/helios-go/helios/model"
)

const j1 = model.JobID("rj0:1:abc")

func op(client int, kind OpKind, host string, status string, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: Input{Kind: kind, Job: j1, Host: host}, Output: Output{Status: status}, Call: call, Return: ret}
}

func unknownOp(client int, kind OpKind, host string, call int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: Input{Kind: kind, Job: j1, Host: host}, Output: Output{Status: "no answer", Unknown: true}, Call: call, Return: 1 << 62}
}

func TestStepAnswers(t *testing.T) {
	deployed := State{Exists: true, Goals: map[string]model.Goal{"h1": model.GoalStart}}
	stopped := State{Exists: true, Goals: map[string]model.Goal{"h1": model.GoalStop}}
	for _, tc := range []struct {
		name   string
		s      State
		in     Input
		status string
		next   State
	}{
		{"create", State{}, Input{Kind: OpCreate}, model.StatusOK, State{Exists: true}},
		{"create twice", State{Exists: true}, Input{Kind: OpCreate}, model.StatusJobAlreadyExists, State{Exists: true}},
		{"deploy missing job", State{}, Input{Kind: OpDeploy, Host: "h1"}, model.StatusJobNotFound, State{}},
		{"deploy", State{Exists: true}, Input{Kind: OpDeploy, Host: "h1"}, model.StatusOK, deployed},
		{"deploy twice", deployed, Input{Kind: OpDeploy, Host: "h1"}, model.StatusJobAlreadyDeployed, deployed},
		{"deploy a stopped one", stopped, Input{Kind: OpDeploy, Host: "h1"}, model.StatusJobAlreadyDeployed, stopped},
		{"undeploy", deployed, Input{Kind: OpUndeploy, Host: "h1"}, model.StatusOK, State{Exists: true}},
		{"undeploy where not deployed", deployed, Input{Kind: OpUndeploy, Host: "h2"}, model.StatusJobNotFound, deployed},
		{"stop", deployed, Input{Kind: OpStop, Host: "h1"}, model.StatusOK, stopped},
		{"stop twice", stopped, Input{Kind: OpStop, Host: "h1"}, model.StatusOK, stopped},
		{"start", stopped, Input{Kind: OpStart, Host: "h1"}, model.StatusOK, deployed},
		{"start not deployed", State{Exists: true}, Input{Kind: OpStart, Host: "h1"}, model.StatusJobNotDeployed, State{Exists: true}},
		{"stop missing job", State{}, Input{Kind: OpStop, Host: "h1"}, model.StatusJobNotFound, State{}},
		{"remove deployed", deployed, Input{Kind: OpRemove}, model.StatusStillInUse, deployed},
		{"remove", State{Exists: true}, Input{Kind: OpRemove}, model.StatusOK, State{}},
		{"remove missing", State{}, Input{Kind: OpRemove}, model.StatusJobNotFound, State{}},
		{"get job", State{Exists: true}, Input{Kind: OpGetJob}, Exists, State{Exists: true}},
		{"get missing job", State{}, Input{Kind: OpGetJob}, model.StatusJobNotFound, State{}},
		{"get deployment", stopped, Input{Kind: OpGet, Host: "h1"}, string(model.GoalStop), stopped},
		{"get no deployment", stopped, Input{Kind: OpGet, Host: "h2"}, model.StatusJobNotDeployed, stopped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Step(tc.s, tc.in, Output{Status: tc.status})
			if len(got) != 1 || got[0].String() != tc.next.String() {
				t.Fatalf("Step(%s, %+v, %s) = %v, want [%s]", tc.s, tc.in, tc.status, got, tc.next)
			}
			if other := Step(tc.s, tc.in, Output{Status: "SOMETHING_ELSE"}); len(other) != 0 {
				t.Errorf("another answer was accepted: %v", other)
			}
			unknown := Step(tc.s, tc.in, Output{Unknown: true})
			if want := 1 + btoi(tc.next.String() != tc.s.String()); len(unknown) != want {
				t.Errorf("unknown answer: %d states %v, want %d", len(unknown), unknown, want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestCheckerCatches shows the check can fail: histories that break a guarantee of the API
// are rejected, and the same ones with the doubtful answer unknown are accepted.
func TestCheckerCatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []porcupine.Operation
		ok   bool
	}{
		{"deploy, undeploy, deploy", []porcupine.Operation{
			op(0, OpCreate, "", model.StatusOK, 0, 10),
			op(0, OpDeploy, "h1", model.StatusOK, 20, 30),
			op(1, OpUndeploy, "h1", model.StatusOK, 40, 50),
			op(0, OpDeploy, "h1", model.StatusOK, 60, 70),
		}, true},
		{"a deploy acknowledged twice (a lost write)", []porcupine.Operation{
			op(0, OpCreate, "", model.StatusOK, 0, 10),
			op(0, OpDeploy, "h1", model.StatusOK, 20, 30),
			op(1, OpDeploy, "h1", model.StatusOK, 40, 50),
		}, false},
		{"an undeploy acknowledged but not written", []porcupine.Operation{
			op(0, OpCreate, "", model.StatusOK, 0, 10),
			op(0, OpDeploy, "h1", model.StatusOK, 20, 30),
			op(1, OpUndeploy, "h1", model.StatusOK, 40, 50),
			op(0, OpRemove, "", model.StatusStillInUse, 60, 70),
		}, false},
		{"a stale read after an acknowledged undeploy", []porcupine.Operation{
			op(0, OpCreate, "", model.StatusOK, 0, 10),
			op(0, OpDeploy, "h1", model.StatusOK, 20, 30),
			op(1, OpUndeploy, "h1", model.StatusOK, 40, 50),
			op(2, OpGet, "h1", string(model.GoalStart), 60, 70),
		}, false},
		{"concurrent deploys: one wins", []porcupine.Operation{
			op(0, OpCreate, "", model.StatusOK, 0, 10),
			op(0, OpDeploy, "h1", model.StatusJobAlreadyDeployed, 20, 50),
			op(1, OpDeploy, "h1", model.StatusOK, 25, 45),
		}, true},
		{"an unknown deploy that took effect later", []porcupine.Operation{
			op(0, OpCreate, "", model.StatusOK, 0, 10),
			unknownOp(0, OpDeploy, "h1", 20),
			op(1, OpRemove, "", model.StatusOK, 30, 40),
			op(1, OpCreate, "", model.StatusOK, 50, 60),
			op(1, OpUndeploy, "h1", model.StatusOK, 70, 80),
		}, true},
		{"an unknown create cannot explain two OKs", []porcupine.Operation{
			unknownOp(0, OpCreate, "", 0),
			op(1, OpCreate, "", model.StatusOK, 10, 20),
			op(2, OpCreate, "", model.StatusOK, 30, 40),
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := porcupine.CheckOperations(Model(), tc.ops)
			if res != tc.ok {
				t.Errorf("linearizable = %v, want %v", res, tc.ok)
			}
		})
	}
}
