package api

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// statusConflict answers a registration under a name an UP agent holds with another id.
// Not one of the original's words (its agents registered in ZooKeeper themselves).
const statusConflict = "CONFLICT"

// listHosts answers GET /hosts?namePattern=&selector=...&limit=&continue=: registered host
// names, sorted, whose name contains namePattern and whose labels satisfy every selector.
// With limit, one page of up to limit names (fewer when selectors drop some) and the
// Helios-Continue header while more may follow.
func (s *server) listHosts(w http.ResponseWriter, r *http.Request) {
	pattern := r.URL.Query().Get("namePattern")
	sels, err := model.ParseHostSelectors(r.URL.Query()["selector"])
	if err != nil {
		s.fail(w, r, badRequest("%s", err.Error()))
		return
	}
	p, err := parsePage(r, model.PageHosts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var names []string
	if p.limit > 0 {
		page, err := s.store.ListHostsPage(r.Context(), p.after, p.limit, func(h string) bool { return strings.Contains(h, pattern) })
		if err != nil {
			s.fail(w, r, err)
			return
		}
		setContinue(w, model.PageHosts, page.More, page.Last)
		names = page.Hosts
	} else {
		hosts, err := s.store.ListHosts(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, h := range hosts {
			if strings.Contains(h, pattern) {
				names = append(names, h)
			}
		}
	}
	if len(sels) > 0 && len(names) > 0 {
		labels, err := s.store.HostLabels(r.Context(), names)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		kept := names[:0]
		for _, h := range names {
			if model.MatchAll(sels, labels[h]) {
				kept = append(kept, h)
			}
		}
		names = kept
	}
	if names == nil {
		names = []string{}
	}
	sort.Strings(names)
	writeJSON(w, http.StatusOK, names)
}

// registerHost answers PUT /hosts/{host}?id=.
func (s *server) registerHost(w http.ResponseWriter, r *http.Request) {
	host := r.PathValue("host")
	id := r.URL.Query().Get("id")
	if id == "" {
		writeJSON(w, http.StatusBadRequest, model.HostRegisterResponse{Status: model.StatusBadRequest, Host: host, Message: "query parameter id required"})
		return
	}
	err := s.store.RegisterHost(r.Context(), host, id)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, model.HostRegisterResponse{Status: model.StatusOK, Host: host})
	case errors.Is(err, store.ErrConflict):
		writeJSON(w, http.StatusConflict, model.HostRegisterResponse{Status: statusConflict, Host: host, Message: err.Error()})
	default:
		s.fail(w, r, err)
	}
}

// deregisterHost answers DELETE /hosts/{host}.
func (s *server) deregisterHost(w http.ResponseWriter, r *http.Request) {
	host := r.PathValue("host")
	allowUp, err := parseBoolParam("allowUp", r.URL.Query().Get("allowUp"))
	if err != nil {
		s.fail(w, r, badRequest("%s", err.Error()))
		return
	}
	err = s.store.DeregisterHost(r.Context(), host, allowUp)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, model.HostDeregisterResponse{Status: model.StatusOK, Host: host})
	case errors.Is(err, store.ErrHostUp):
		writeJSON(w, http.StatusConflict, model.HostDeregisterResponse{Status: model.StatusHostUp, Host: host,
			Message: err.Error() + "; stop the agent first, or deregister with allowUp=true (helios deregister --allow-up)"})
	case errors.Is(err, store.ErrHostNotFound):
		writeJSON(w, http.StatusNotFound, model.HostDeregisterResponse{Status: model.StatusNotFound, Host: host, Message: fmt.Sprintf("host %s not found", host)})
	default:
		s.fail(w, r, err)
	}
}

// acceptRestore answers POST /hosts/{host}/accept-restore: the operator's decision that the
// host's agent, holding back removals since etcd was restored from a snapshot, converges to
// etcd's desired state (store.AcceptRestore).
func (s *server) acceptRestore(w http.ResponseWriter, r *http.Request) {
	host := r.PathValue("host")
	held, err := s.store.AcceptRestore(r.Context(), host)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, model.HostAcceptRestoreResponse{Status: model.StatusOK, Host: host, RestoreSuspected: held})
	case errors.Is(err, store.ErrHostNotFound):
		writeJSON(w, http.StatusNotFound, model.HostAcceptRestoreResponse{Status: model.StatusNotFound, Host: host, Message: fmt.Sprintf("host %s not found", host)})
	default:
		s.fail(w, r, err)
	}
}

// hostStatus answers GET /hosts/{host}/status.
func (s *server) hostStatus(w http.ResponseWriter, r *http.Request) {
	host := r.PathValue("host")
	st, err := s.store.HostStatus(r.Context(), host)
	if errors.Is(err, store.ErrHostNotFound) {
		writeJSON(w, http.StatusNotFound, model.ErrorResponse{Status: model.StatusHostNotFound, Message: fmt.Sprintf("host %s not found", host)})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, fillHostStatus(*st))
}

// hostStatuses answers POST /hosts/statuses with a body listing host names; unknown hosts
// are left out.
func (s *server) hostStatuses(w http.ResponseWriter, r *http.Request) {
	var hosts []string
	if err := decodeJSON(r, &hosts, false); err != nil {
		s.fail(w, r, err)
		return
	}
	// Names the store would refuse cannot be registered hosts; drop them rather than fail
	// the whole request. An empty list must stay empty: the store reads nil as "all".
	names := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h != "" && !strings.Contains(h, "/") {
			names = append(names, h)
		}
	}
	out := map[string]model.HostStatus{}
	if len(names) > 0 {
		statuses, err := s.store.HostStatuses(r.Context(), names)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for h, st := range statuses {
			out[h] = fillHostStatus(st)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// fillHostStatus makes empty maps encode as {} rather than null, as clients index them.
func fillHostStatus(st model.HostStatus) model.HostStatus {
	if st.Jobs == nil {
		st.Jobs = map[model.JobID]model.Deployment{}
	}
	if st.Statuses == nil {
		st.Statuses = map[model.JobID]model.TaskStatus{}
	}
	if st.Environment == nil {
		st.Environment = map[string]string{}
	}
	return st
}
