package api

import (
	"net/http"
	"sort"
)

// listMasters answers GET /masters: the names of the live masters, sorted.
func (s *server) listMasters(w http.ResponseWriter, r *http.Request) {
	masters, err := s.store.ListMasters(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := make([]string, 0, len(masters))
	for _, m := range masters {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	writeJSON(w, http.StatusOK, names)
}

// version answers GET /version with the bare version string: the original's clients read
// the raw body.
func (s *server) version(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(s.cfg.Version))
}
