package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// watchGroup answers GET /deployment-group/{name}/watch: newline-delimited JSON, one
// DeploymentGroupStatusResponse (as GET …/status answers it) now and another each time it
// changes, pushed from etcd watches of the group and its hosts. The stream ends with a
// DEPLOYMENT_GROUP_NOT_FOUND line when the group is removed, or when the client leaves.
func (s *server) watchGroup(w http.ResponseWriter, r *http.Request) {
	name, ok := groupNameOr404(w, r)
	if !ok {
		return
	}
	first, err := s.store.DeploymentGroupStatus(r.Context(), name)
	if s.groupError(w, r, name, err) {
		return
	}
	ctx, st, done, err := s.openStream(w, r)
	if err != nil {
		return // the client is gone
	}
	defer done()
	pokes := s.store.PokeDeploymentGroup(ctx, name)
	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	var last []byte
	send := func(v any) bool {
		line, err := json.Marshal(v)
		if err != nil || bytes.Equal(line, last) {
			return err == nil
		}
		last = line
		return st.write(append(line, '\n')) == nil
	}
	if !send(withoutRevision(first)) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			if st.write([]byte{'\n'}) != nil {
				return
			}
		case _, open := <-pokes:
			if !open {
				return
			}
			st, err := s.store.DeploymentGroupStatus(ctx, name)
			switch {
			case errors.Is(err, store.ErrDeploymentGroupNotFound):
				send(model.ErrorResponse{Status: model.StatusDeploymentGroupNotFound, Message: "deployment group " + name + " was removed"})
				return
			case err != nil:
				if ctx.Err() == nil {
					s.log.Warn("group watch: read status", zap.String("deployment-group", name), zap.Error(err))
				}
				continue // the next poke (or the watch's re-list) tries again
			}
			if !send(withoutRevision(st)) {
				return
			}
		}
	}
}

// withoutRevision drops the read revision, so that a re-read of an unchanged group gives
// the same line and is not sent again.
func withoutRevision(st *model.DeploymentGroupStatusResponse) *model.DeploymentGroupStatusResponse {
	c := *st
	c.Revision = 0
	return &c
}
