package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// groupNameOr404 reads {name}; an impossible name answers 404 as an unknown group would.
func groupNameOr404(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if err := model.ValidateDeploymentGroupName(name); err != nil {
		writeGroupNotFound(w, err.Error())
		return "", false
	}
	return name, true
}

func writeGroupNotFound(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusNotFound, model.ErrorResponse{Status: model.StatusDeploymentGroupNotFound, Message: msg})
}

// createGroup answers POST /deployment-group: CREATED, NOT_MODIFIED (same name, same
// selectors), CONFLICT (409: same name, other selectors) or INVALID_DEPLOYMENT_GROUP (400).
func (s *server) createGroup(w http.ResponseWriter, r *http.Request) {
	var g model.DeploymentGroup
	if err := decodeJSON(r, &g, false); err != nil {
		s.fail(w, r, err)
		return
	}
	// A group is created empty: a rolling update sets its job and options.
	g.JobID, g.RolloutOptions, g.RollingUpdateReason = "", nil, ""
	if problems := model.ValidateNewDeploymentGroup(g); len(problems) > 0 {
		writeJSON(w, http.StatusBadRequest, model.CreateDeploymentGroupResponse{Status: model.StatusInvalidDeploymentGroup, Errors: problems})
		return
	}
	word, err := s.store.CreateDeploymentGroup(r.Context(), g)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code := http.StatusOK
	if word == model.StatusConflict {
		code = http.StatusConflict
	}
	writeJSON(w, code, model.CreateDeploymentGroupResponse{Status: word})
}

// listGroups answers GET /deployment-group: the names, sorted.
func (s *server) listGroups(w http.ResponseWriter, r *http.Request) {
	names, err := s.store.ListDeploymentGroups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, names)
}

// getGroup answers GET /deployment-group/{name}.
func (s *server) getGroup(w http.ResponseWriter, r *http.Request) {
	name, ok := groupNameOr404(w, r)
	if !ok {
		return
	}
	g, err := s.store.GetDeploymentGroup(r.Context(), name)
	if s.groupError(w, r, name, err) {
		return
	}
	writeJSON(w, http.StatusOK, g)
}

// removeGroup answers DELETE /deployment-group/{name}: REMOVED, or 404. Nothing is
// undeployed.
func (s *server) removeGroup(w http.ResponseWriter, r *http.Request) {
	name, ok := groupNameOr404(w, r)
	if !ok {
		return
	}
	err := s.store.RemoveDeploymentGroup(r.Context(), name)
	if errors.Is(err, store.ErrDeploymentGroupNotFound) {
		writeJSON(w, http.StatusNotFound, model.RemoveDeploymentGroupResponse{Status: model.StatusDeploymentGroupNotFound, Message: err.Error()})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, model.RemoveDeploymentGroupResponse{Status: model.StatusRemoved})
}

// rollingUpdate answers POST /deployment-group/{name}/rolling-update with a
// RollingUpdateRequest: OK once the rollout is planned (the controller's leader carries it
// out), 404 DEPLOYMENT_GROUP_NOT_FOUND or JOB_NOT_FOUND, 400 for bad options.
func (s *server) rollingUpdate(w http.ResponseWriter, r *http.Request) {
	name, ok := groupNameOr404(w, r)
	if !ok {
		return
	}
	var req model.RollingUpdateRequest
	if err := decodeJSON(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	respond := func(code int, status, msg string, errs ...string) {
		writeJSON(w, code, model.RollingUpdateResponse{Status: status, Message: msg, Errors: errs})
	}
	if _, err := model.ParseJobID(string(req.Job)); err != nil {
		respond(http.StatusBadRequest, model.StatusInvalidID, err.Error())
		return
	}
	if problems := req.RolloutOptions.Problems(); len(problems) > 0 {
		respond(http.StatusBadRequest, model.StatusInvalidRolloutOptions, "invalid rollout options", problems...)
		return
	}
	err := s.store.RollingUpdate(r.Context(), name, req.Job, req.RolloutOptions, s.now().UnixMilli())
	switch {
	case err == nil:
		respond(http.StatusOK, model.StatusOK, "")
	case errors.Is(err, store.ErrDeploymentGroupNotFound):
		respond(http.StatusNotFound, model.StatusDeploymentGroupNotFound, err.Error())
	case errors.Is(err, store.ErrJobNotFound):
		respond(http.StatusNotFound, model.StatusJobNotFound, err.Error())
	default:
		s.fail(w, r, err)
	}
}

// stopGroup answers POST /deployment-group/{name}/stop: 204 once the rollout is FAILED
// "Stopped by user", 404 for an unknown group.
func (s *server) stopGroup(w http.ResponseWriter, r *http.Request) {
	name, ok := groupNameOr404(w, r)
	if !ok {
		return
	}
	err := s.store.StopDeploymentGroup(r.Context(), name, s.now().UnixMilli())
	if s.groupError(w, r, name, err) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// promoteGroup answers POST /deployment-group/{name}/promote: OK when a PAUSED canary
// rollout goes on, 409 NOT_PAUSED otherwise, 404 for an unknown group.
func (s *server) promoteGroup(w http.ResponseWriter, r *http.Request) {
	name, ok := groupNameOr404(w, r)
	if !ok {
		return
	}
	err := s.store.PromoteDeploymentGroup(r.Context(), name, s.now().UnixMilli())
	if errors.Is(err, store.ErrNotPaused) {
		writeJSON(w, http.StatusConflict, model.RollingUpdateResponse{Status: model.StatusNotPaused, Message: err.Error()})
		return
	}
	if s.groupError(w, r, name, err) {
		return
	}
	writeJSON(w, http.StatusOK, model.RollingUpdateResponse{Status: model.StatusOK})
}

// groupStatus answers GET /deployment-group/{name}/status.
func (s *server) groupStatus(w http.ResponseWriter, r *http.Request) {
	name, ok := groupNameOr404(w, r)
	if !ok {
		return
	}
	st, err := s.store.DeploymentGroupStatus(r.Context(), name)
	if s.groupError(w, r, name, err) {
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// groupError answers err (if any) and tells whether it did.
func (s *server) groupError(w http.ResponseWriter, r *http.Request, name string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrDeploymentGroupNotFound):
		writeGroupNotFound(w, fmt.Sprintf("deployment group %s not found", name))
	default:
		s.fail(w, r, err)
	}
	return true
}
