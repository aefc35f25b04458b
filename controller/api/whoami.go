package api

import (
	"net/http"

	"github.com/helios-go/helios/model"
)

// whoami tells the caller who this master takes it for, so a client (the dashboard) can
// show the user and grey out what the role may not do before the API refuses it.
func (s *server) whoami(w http.ResponseWriter, r *http.Request) {
	if p, ok := r.Context().Value(principalKey{}).(model.Principal); ok {
		writeJSON(w, http.StatusOK, model.WhoAmI{User: p.User, Role: p.Role, Authenticated: true})
		return
	}
	writeJSON(w, http.StatusOK, model.WhoAmI{User: userOf(r), Role: model.RoleAdmin})
}
