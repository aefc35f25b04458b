package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// deploymentRequest reads the path of /hosts/{host}/jobs/{id} and the Deployment body.
// A job id in the body may be left out but must otherwise name the path's job.
type deploymentRequest struct {
	host string
	id   model.JobID
	dep  model.Deployment
}

// readDeployment fills req from the request. When the request is malformed it answers it
// (with respond, which sees req's host and id already set) and returns false.
func (s *server) readDeployment(w http.ResponseWriter, r *http.Request, req *deploymentRequest,
	bodyRequired bool, respond func(code int, status, msg string)) bool {
	req.host, req.id = r.PathValue("host"), model.JobID(r.PathValue("id"))
	if _, err := model.ParseJobID(string(req.id)); err != nil {
		respond(http.StatusBadRequest, model.StatusInvalidID, err.Error())
		return false
	}
	if err := decodeJSON(r, &req.dep, !bodyRequired); err != nil {
		s.fail(w, r, err)
		return false
	}
	if req.dep.JobID != "" && req.dep.JobID != req.id {
		respond(http.StatusBadRequest, model.StatusIDMismatch,
			fmt.Sprintf("job id %s in the body does not match %s in the path", req.dep.JobID, req.id))
		return false
	}
	req.dep.JobID = req.id
	return true
}

func parseGoal(g model.Goal) (model.Goal, error) {
	goal, ok := model.ParseGoal(string(g))
	if !ok {
		return "", fmt.Errorf("invalid goal %q: want START, STOP or UNDEPLOY", g)
	}
	return goal, nil
}

// deploy answers PUT /hosts/{host}/jobs/{id}?token=&user=.
func (s *server) deploy(w http.ResponseWriter, r *http.Request) {
	var req deploymentRequest
	respond := func(code int, status, msg string) {
		writeJSON(w, code, model.JobDeployResponse{Status: status, Job: req.id, Host: req.host, Message: msg})
	}
	if !s.readDeployment(w, r, &req, false, respond) {
		return
	}
	dep := req.dep
	if dep.Goal == "" {
		dep.Goal = model.GoalStart
	} else {
		g, err := parseGoal(dep.Goal)
		if err != nil {
			respond(http.StatusBadRequest, model.StatusBadRequest, err.Error())
			return
		}
		dep.Goal = g
	}
	dep.DeployerUser = userOf(r)
	dep.DeployerMaster = s.cfg.MasterName
	// Deployment groups deploy through the controller, not through this endpoint: a manual
	// deployment belongs to no group whatever the body claims.
	dep.DeploymentGroupName = ""

	err := s.store.Deploy(r.Context(), req.host, dep, jobToken(r))
	switch {
	case err == nil:
		respond(http.StatusOK, model.StatusOK, "")
	case errors.Is(err, store.ErrAlreadyDeployed):
		respond(http.StatusBadRequest, model.StatusJobAlreadyDeployed, fmt.Sprintf("job %s is already deployed on host %s", req.id, req.host))
	case errors.Is(err, store.ErrHostNotFound):
		respond(http.StatusBadRequest, model.StatusHostNotFound, fmt.Sprintf("host %s not found", req.host))
	case errors.Is(err, store.ErrJobNotFound):
		respond(http.StatusBadRequest, model.StatusJobNotFound, fmt.Sprintf("job %s not found", req.id))
	case errors.Is(err, store.ErrPortConflict):
		respond(http.StatusBadRequest, model.StatusPortConflict, err.Error())
	case errors.Is(err, store.ErrForbidden):
		respond(http.StatusForbidden, model.StatusForbidden, fmt.Sprintf("wrong token for job %s", req.id))
	default:
		s.fail(w, r, err)
	}
}

// undeploy answers DELETE /hosts/{host}/jobs/{id}?token=.
func (s *server) undeploy(w http.ResponseWriter, r *http.Request) {
	host := r.PathValue("host")
	raw := model.JobID(r.PathValue("id"))
	respond := func(code int, status, msg string) {
		writeJSON(w, code, model.JobUndeployResponse{Status: status, Job: raw, Host: host, Message: msg})
	}
	id, err := model.ParseJobID(string(raw))
	if err != nil {
		respond(http.StatusBadRequest, model.StatusInvalidID, err.Error())
		return
	}
	err = s.store.Undeploy(r.Context(), host, id, jobToken(r))
	switch {
	case err == nil:
		respond(http.StatusOK, model.StatusOK, "")
	case errors.Is(err, store.ErrHostNotFound):
		respond(http.StatusNotFound, model.StatusHostNotFound, fmt.Sprintf("host %s not found", host))
	case errors.Is(err, store.ErrJobNotFound):
		respond(http.StatusNotFound, model.StatusJobNotFound, fmt.Sprintf("job %s not found", id))
	case errors.Is(err, store.ErrNotDeployed):
		// The original's word for this case: the job is not found on that host.
		respond(http.StatusNotFound, model.StatusJobNotFound, fmt.Sprintf("job %s is not deployed on host %s", id, host))
	case errors.Is(err, store.ErrForbidden):
		respond(http.StatusForbidden, model.StatusForbidden, fmt.Sprintf("wrong token for job %s", id))
	default:
		s.fail(w, r, err)
	}
}

// setGoal answers PATCH /hosts/{host}/jobs/{id}?token= with a body {"goal": ...}.
func (s *server) setGoal(w http.ResponseWriter, r *http.Request) {
	var req deploymentRequest
	respond := func(code int, status, msg string) {
		writeJSON(w, code, model.SetGoalResponse{Status: status, Job: req.id, Host: req.host, Message: msg})
	}
	if !s.readDeployment(w, r, &req, true, respond) {
		return
	}
	if req.dep.Goal == "" {
		respond(http.StatusBadRequest, model.StatusBadRequest, "goal required: want START, STOP or UNDEPLOY")
		return
	}
	goal, err := parseGoal(req.dep.Goal)
	if err != nil {
		respond(http.StatusBadRequest, model.StatusBadRequest, err.Error())
		return
	}
	err = s.store.SetGoal(r.Context(), req.host, req.id, goal, jobToken(r))
	switch {
	case err == nil:
		respond(http.StatusOK, model.StatusOK, "")
	case errors.Is(err, store.ErrNotDeployed):
		respond(http.StatusNotFound, model.StatusJobNotDeployed, fmt.Sprintf("job %s is not deployed on host %s", req.id, req.host))
	case errors.Is(err, store.ErrHostNotFound):
		respond(http.StatusNotFound, model.StatusHostNotFound, fmt.Sprintf("host %s not found", req.host))
	case errors.Is(err, store.ErrJobNotFound):
		respond(http.StatusNotFound, model.StatusJobNotFound, fmt.Sprintf("job %s not found", req.id))
	case errors.Is(err, store.ErrForbidden):
		respond(http.StatusForbidden, model.StatusForbidden, fmt.Sprintf("wrong token for job %s", req.id))
	default:
		s.fail(w, r, err)
	}
}

// getDeployment answers GET /hosts/{host}/jobs/{id}.
func (s *server) getDeployment(w http.ResponseWriter, r *http.Request) {
	host := r.PathValue("host")
	id, ok := jobIDOr404(w, r)
	if !ok {
		return
	}
	dep, err := s.store.GetDeployment(r.Context(), host, id)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, dep)
	case errors.Is(err, store.ErrNotDeployed):
		writeJSON(w, http.StatusNotFound, model.ErrorResponse{Status: model.StatusJobNotDeployed, Message: fmt.Sprintf("job %s is not deployed on host %s", id, host)})
	case errors.Is(err, store.ErrHostNotFound):
		writeJSON(w, http.StatusNotFound, model.ErrorResponse{Status: model.StatusHostNotFound, Message: fmt.Sprintf("host %s not found", host)})
	default:
		s.fail(w, r, err)
	}
}
