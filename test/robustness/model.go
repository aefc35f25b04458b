package robustness

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
	"github.com/helios-go/helios/model"
)

// OpKind is what a client asked the API.
type OpKind string

// The operations of the history. Start and Stop are PATCH with goal START or STOP.
const (
	OpCreate   OpKind = "create"   // POST /jobs
	OpDeploy   OpKind = "deploy"   // PUT /hosts/{host}/jobs/{id} (goal START)
	OpUndeploy OpKind = "undeploy" // DELETE /hosts/{host}/jobs/{id}
	OpStart    OpKind = "start"    // PATCH /hosts/{host}/jobs/{id} goal START
	OpStop     OpKind = "stop"     // PATCH /hosts/{host}/jobs/{id} goal STOP
	OpRemove   OpKind = "remove"   // DELETE /jobs/{id}
	OpGetJob   OpKind = "get-job"  // GET /jobs/{id}: answers Exists or JOB_NOT_FOUND
	OpGet      OpKind = "get"      // GET /hosts/{host}/jobs/{id}: answers the goal or JOB_NOT_DEPLOYED
)

// Exists is the answer of OpGetJob when the job is there (the API answers the job, 200).
const Exists = "EXISTS"

// Input is one call: the operation, the job, and the host where the operation has one.
type Input struct {
	Kind OpKind
	Job  model.JobID
	Host string
}

// Output is the answer: the status word of the body ("OK", "JOB_NOT_FOUND"...), or
// Unknown when the call's outcome cannot be known (no answer, a 5xx, a timeout): the
// operation may or may not have happened, then or at any later time.
type Output struct {
	Status  string
	Unknown bool
}

// State is one job's state in the sequential model: whether it exists, and its goal on
// each host it is deployed to. The model is partitioned by job (operations on different
// jobs commute: hosts are always registered and jobs use no static ports), so a state
// speaks of a single job.
type State struct {
	Exists bool
	Goals  map[string]model.Goal // host -> goal; nil or empty: deployed nowhere
}

func (s State) String() string {
	if !s.Exists {
		return "absent"
	}
	hosts := slices.Sorted(maps.Keys(s.Goals))
	parts := make([]string, len(hosts))
	for i, h := range hosts {
		parts[i] = h + "=" + string(s.Goals[h])
	}
	return "exists{" + strings.Join(parts, ",") + "}"
}

func (s State) with(host string, g model.Goal) State {
	goals := maps.Clone(s.Goals)
	if goals == nil {
		goals = map[string]model.Goal{}
	}
	if g == "" {
		delete(goals, host)
	} else {
		goals[host] = g
	}
	return State{Exists: s.Exists, Goals: goals}
}

// Step is the sequential specification: the state after in with answer out, and whether
// out is an answer the API may give in state s. An Unknown answer allows both: the
// operation took effect (if it could have, given s) or it did not.
func Step(s State, in Input, out Output) []State {
	next, status := apply(s, in)
	if out.Unknown {
		if status == model.StatusOK && next.String() != s.String() {
			return []State{s, next}
		}
		return []State{s}
	}
	if out.Status != status {
		return nil
	}
	return []State{next}
}

// apply runs in against s: the next state, and the status word the API answers. The
// order of the checks is the store's: the job first, then the deployment.
func apply(s State, in Input) (State, string) {
	switch in.Kind {
	case OpCreate:
		if s.Exists {
			return s, model.StatusJobAlreadyExists
		}
		return State{Exists: true}, model.StatusOK
	case OpGetJob:
		if !s.Exists {
			return s, model.StatusJobNotFound
		}
		return s, Exists
	case OpGet: // the API reads the deployment alone: a missing job is "not deployed"
		if g, ok := s.Goals[in.Host]; ok {
			return s, string(g)
		}
		return s, model.StatusJobNotDeployed
	case OpRemove:
		if !s.Exists {
			return s, model.StatusJobNotFound
		}
		if len(s.Goals) > 0 {
			return s, model.StatusStillInUse
		}
		return State{}, model.StatusOK
	}
	if !s.Exists {
		return s, model.StatusJobNotFound
	}
	goal, deployed := s.Goals[in.Host]
	switch in.Kind {
	case OpDeploy:
		if deployed {
			return s, model.StatusJobAlreadyDeployed
		}
		return s.with(in.Host, model.GoalStart), model.StatusOK
	case OpUndeploy:
		if !deployed {
			return s, model.StatusJobNotFound // the API's word for "not deployed there"
		}
		return s.with(in.Host, ""), model.StatusOK
	case OpStart, OpStop:
		if !deployed {
			return s, model.StatusJobNotDeployed
		}
		want := model.GoalStart
		if in.Kind == OpStop {
			want = model.GoalStop
		}
		if goal == want {
			return s, model.StatusOK
		}
		return s.with(in.Host, want), model.StatusOK
	}
	return s, "unknown operation " + string(in.Kind)
}

// Model is the porcupine model of jobs and deployments, partitioned by job id.
func Model() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			byJob := map[model.JobID][]porcupine.Operation{}
			for _, op := range history {
				id := op.Input.(Input).Job
				byJob[id] = append(byJob[id], op)
			}
			out := make([][]porcupine.Operation, 0, len(byJob))
			for _, id := range slices.Sorted(maps.Keys(byJob)) {
				out = append(out, byJob[id])
			}
			return out
		},
		Init: func() []any { return []any{State{}} },
		Step: func(state, input, output any) []any {
			var out []any
			for _, s := range Step(state.(State), input.(Input), output.(Output)) {
				out = append(out, s)
			}
			return out
		},
		Equal: func(a, b any) bool { return a.(State).String() == b.(State).String() },
		DescribeOperation: func(input, output any) string {
			in, out := input.(Input), output.(Output)
			res := out.Status
			if out.Unknown {
				res = "unknown (" + out.Status + ")"
			}
			if in.Host == "" {
				return fmt.Sprintf("%s %s -> %s", in.Kind, in.Job, res)
			}
			return fmt.Sprintf("%s %s on %s -> %s", in.Kind, in.Job, in.Host, res)
		},
		DescribeState: func(state any) string { return state.(State).String() },
	}
	return nm.ToModel()
}
