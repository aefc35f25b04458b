package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// listJobs answers GET /jobs?q=&hostPattern=&limit=&continue=. Without limit the answer
// is every matching job, streamed one page of etcd reads at a time; with it, one page and
// the Helios-Continue header while more may follow. A query holding ':' is a prefix of the
// ids, so it narrows the key range read; other queries and hostPattern filter on the ids
// before any job is read.
func (s *server) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	hostPattern := r.URL.Query().Get("hostPattern")
	p, err := parsePage(r, model.PageJobs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The jobs are passed on as etcd holds them: they are the JSON of the same type, and
	// decoding then encoding them was most of the cost of a list.
	query := store.JobsQuery{Limit: p.limit, After: model.JobID(p.after), JSON: true}
	if strings.Contains(q, ":") {
		query.Prefix = q
	} else if q != "" {
		query.Match = func(id model.JobID) bool { return matchesJobQuery(id, q) }
	}
	if hostPattern != "" {
		// The ids deployed on matching hosts, from the keys alone.
		onHosts, err := s.store.DeployedJobs(r.Context(), func(h string) bool { return strings.Contains(h, hostPattern) })
		if err != nil {
			s.fail(w, r, err)
			return
		}
		byQuery := query.Match
		query.Match = func(id model.JobID) bool { return onHosts[id] && (byQuery == nil || byQuery(id)) }
	}
	list := func(after model.JobID) ([]jobEntry, model.JobID, bool, error) {
		query.After = after
		page, err := s.store.ListJobsPage(r.Context(), query)
		entries := make([]jobEntry, len(page.Jobs))
		for i, e := range page.Jobs {
			entries[i] = jobEntry{id: e.ID, job: e.JSON}
		}
		return entries, page.Last, page.More, err
	}
	if p.limit == 0 {
		query.Limit = streamPageSize
		s.streamJobs(w, r, list)
		return
	}
	entries, last, more, err := list(query.After)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make(map[model.JobID]json.RawMessage, len(entries))
	for _, e := range entries {
		out[e.id] = e.job
	}
	setContinue(w, model.PageJobs, more, string(last))
	writeJSON(w, http.StatusOK, out)
}

// matchesJobQuery tells whether a job id answers a user's query: the id starts with it
// ("name:vers" finds name:version:*), or, for a query without ':', the name contains it.
// An empty query matches every job.
func matchesJobQuery(id model.JobID, q string) bool {
	if q == "" || strings.HasPrefix(string(id), q) {
		return true
	}
	return !strings.Contains(q, ":") && strings.Contains(id.Name(), q)
}

// jobIDOr404 reads {id}. A malformed id is answered as the original does, like an unknown
// job: there is no such job.
func jobIDOr404(w http.ResponseWriter, r *http.Request) (model.JobID, bool) {
	id, err := pathJobID(r)
	if err != nil {
		writeJobNotFound(w, err.Error())
		return "", false
	}
	return id, true
}

// writeJobNotFound answers 404 JOB_NOT_FOUND (the body of every job endpoint's miss,
// JobDeleteResponse included, is {status, message}).
func writeJobNotFound(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusNotFound, model.ErrorResponse{Status: model.StatusJobNotFound, Message: msg})
}

// pathJobID reads {id} and checks it is a full job id.
func pathJobID(r *http.Request) (model.JobID, error) {
	return model.ParseJobID(r.PathValue("id"))
}

// getJob answers GET /jobs/{id}.
func (s *server) getJob(w http.ResponseWriter, r *http.Request) {
	id, ok := jobIDOr404(w, r)
	if !ok {
		return
	}
	job, err := s.store.GetJob(r.Context(), id)
	if errors.Is(err, store.ErrJobNotFound) {
		writeJobNotFound(w, fmt.Sprintf("job %s not found", id))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, job)
}

// createJob answers POST /jobs?user=.
func (s *server) createJob(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	job, unknown, err := model.ParseJobJSON(data)
	if err != nil {
		s.fail(w, r, badRequest("%s", err.Error()))
		return
	}
	if len(unknown) > 0 {
		s.log.Debug("job has unknown fields", zap.String("job-id", string(job.ID)), zap.Strings("fields", unknown))
	}
	if job.ID == "" {
		writeJSON(w, http.StatusBadRequest, model.CreateJobResponse{Status: model.StatusInvalidJobDefinition, Errors: []string{"id required"}})
		return
	}
	created := s.now().UnixMilli()
	job.Created = &created
	if user := userOf(r); user != "" {
		job.CreatingUser = user
	}
	job.Normalize()
	// Without a hash the master computes it; with one, validation checks it against the
	// computed one and names both when they differ.
	if parts := strings.Split(string(job.ID), ":"); len(parts) == 2 || (len(parts) == 3 && parts[2] == "") {
		job, err = model.WithComputedID(parts[0], parts[1], job)
		if err != nil {
			s.fail(w, r, fmt.Errorf("compute id of job %s: %w", job.ID, err))
			return
		}
	}
	if errs := model.ValidateJob(&job, model.ValidateOptions{
		CapabilityWhitelist: s.cfg.CapabilityWhitelist,
		Now:                 s.now(),
		Policy:              s.cfg.JobPolicy,
	}); len(errs) > 0 {
		writeJSON(w, http.StatusBadRequest, model.CreateJobResponse{Status: model.StatusInvalidJobDefinition, Errors: errs, ID: job.ID})
		return
	}

	err = s.store.CreateJob(r.Context(), job)
	if errors.Is(err, store.ErrExists) {
		writeJSON(w, http.StatusBadRequest, model.CreateJobResponse{
			Status: model.StatusJobAlreadyExists,
			Errors: []string{fmt.Sprintf("job %s already exists", job.ID)},
			ID:     job.ID,
		})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := model.CreateJobResponse{Status: model.StatusOK, ID: job.ID}
	for _, f := range unknown {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("unknown field %q ignored", f))
	}
	writeJSON(w, http.StatusOK, resp)
}

// removeJob answers DELETE /jobs/{id}?token=.
func (s *server) removeJob(w http.ResponseWriter, r *http.Request) {
	id, ok := jobIDOr404(w, r)
	if !ok {
		return
	}
	err := s.store.RemoveJob(r.Context(), id, jobToken(r))
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, model.JobDeleteResponse{Status: model.StatusOK})
	case errors.Is(err, store.ErrJobNotFound):
		writeJobNotFound(w, fmt.Sprintf("job %s not found", id))
	case errors.Is(err, store.ErrStillInUse):
		writeJSON(w, http.StatusBadRequest, model.JobDeleteResponse{Status: model.StatusStillInUse, Message: err.Error()})
	case errors.Is(err, store.ErrForbidden):
		writeJSON(w, http.StatusForbidden, model.JobDeleteResponse{Status: model.StatusForbidden, Message: fmt.Sprintf("wrong token for job %s", id)})
	default:
		s.fail(w, r, err)
	}
}

// jobStatus answers GET /jobs/{id}/status.
func (s *server) jobStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := jobIDOr404(w, r)
	if !ok {
		return
	}
	st, err := s.store.JobStatus(r.Context(), id)
	if errors.Is(err, store.ErrJobNotFound) {
		writeJobNotFound(w, fmt.Sprintf("job %s not found", id))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, fillJobStatus(st))
}

// fillJobStatus makes empty maps encode as {} rather than null, as clients index them.
func fillJobStatus(st *model.JobStatus) *model.JobStatus {
	if st.Deployments == nil {
		st.Deployments = map[string]model.Deployment{}
	}
	if st.TaskStatuses == nil {
		st.TaskStatuses = map[string]model.TaskStatus{}
	}
	return st
}

// jobHistory answers GET /history/jobs/{id}. History outlives nothing: removing a job
// deletes it, so no events and no job means the id is unknown.
func (s *server) jobHistory(w http.ResponseWriter, r *http.Request) {
	id, ok := jobIDOr404(w, r)
	if !ok {
		return
	}
	events, err := s.store.History(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(events) == 0 {
		_, err := s.store.GetJob(r.Context(), id)
		if errors.Is(err, store.ErrJobNotFound) {
			writeJobNotFound(w, fmt.Sprintf("job %s not found", id))
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		events = []model.TaskStatusEvent{}
	}
	// The store sorts by timestamp; sorting again keeps the promise whatever it returns.
	sort.SliceStable(events, func(i, j int) bool { return events[i].Timestamp < events[j].Timestamp })
	writeJSON(w, http.StatusOK, model.TaskStatusEvents{Status: model.StatusOK, Events: events})
}
