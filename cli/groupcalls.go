package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/helios-go/helios/model"
)

// This file holds the REST calls of the deployment group commands.

func groupPath(name string, tail string) string {
	return "/deployment-group/" + url.PathEscape(name) + tail
}

// errGroupNotFound is the answer of the group endpoints for an unknown group, worded as
// the original's commands print it.
func errGroupNotFound(name string) *apiError {
	return &apiError{Status: model.StatusDeploymentGroupNotFound, Message: "Unknown deployment group: " + name}
}

// createGroup posts a group. CONFLICT (409) and INVALID_DEPLOYMENT_GROUP (400) come back
// as the response, for the caller to print.
func (c *client) createGroup(ctx context.Context, g model.DeploymentGroup) (*model.CreateDeploymentGroupResponse, error) {
	return answer[model.CreateDeploymentGroupResponse](c.do(ctx, http.MethodPost, "/deployment-group", nil, g))
}

func (c *client) groups(ctx context.Context) ([]string, error) {
	out := []string{}
	if err := c.call(ctx, http.MethodGet, "/deployment-group", nil, nil, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

func (c *client) group(ctx context.Context, name string) (*model.DeploymentGroup, error) {
	var g model.DeploymentGroup
	err := c.call(ctx, http.MethodGet, groupPath(name, ""), nil, nil, &g)
	if isStatus(err, model.StatusDeploymentGroupNotFound) {
		return nil, errGroupNotFound(name)
	}
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// removeGroup answers REMOVED or DEPLOYMENT_GROUP_NOT_FOUND as the response.
func (c *client) removeGroup(ctx context.Context, name string) (*model.RemoveDeploymentGroupResponse, error) {
	return answer[model.RemoveDeploymentGroupResponse](c.do(ctx, http.MethodDelete, groupPath(name, ""), nil, nil))
}

func (c *client) groupStatus(ctx context.Context, name string) (*model.DeploymentGroupStatusResponse, error) {
	var st model.DeploymentGroupStatusResponse
	err := c.call(ctx, http.MethodGet, groupPath(name, "/status"), nil, nil, &st)
	if isStatus(err, model.StatusDeploymentGroupNotFound) {
		return nil, errGroupNotFound(name)
	}
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// rollingUpdate starts a rollout. Refusals (404 group or job, 400 options) come back as
// the response.
func (c *client) rollingUpdate(ctx context.Context, name string, req model.RollingUpdateRequest) (*model.RollingUpdateResponse, error) {
	return answer[model.RollingUpdateResponse](c.do(ctx, http.MethodPost, groupPath(name, "/rolling-update"), nil, req))
}

// stopGroup returns the HTTP status of POST …/stop: 204 stopped, 404 unknown group.
func (c *client) stopGroup(ctx context.Context, name string) (int, error) {
	code, _, err := c.do(ctx, http.MethodPost, groupPath(name, "/stop"), nil, nil)
	return code, err
}

// promoteGroup answers OK, NOT_PAUSED or DEPLOYMENT_GROUP_NOT_FOUND as the response.
func (c *client) promoteGroup(ctx context.Context, name string) (*model.RollingUpdateResponse, error) {
	return answer[model.RollingUpdateResponse](c.do(ctx, http.MethodPost, groupPath(name, "/promote"), nil, nil))
}

// watchGroup follows GET /deployment-group/{name}/watch and calls fn with each status the
// master pushes, until ctx ends (ctx.Err()), fn returns an error (returned as is) or the
// group is removed (errGroupNotFound). A stream that breaks or goes silent is reopened;
// the master starts every stream with the current status, and a status equal to the last
// one handled is skipped, so fn sees each change once.
func (c *client) watchGroup(ctx context.Context, name string, fn func(*model.DeploymentGroupStatusResponse) error) error {
	var last []byte
	reopen := c.reopener()
	for {
		err := c.stream(ctx, groupPath(name, "/watch"), nil, func(line []byte) error {
			reopen.line()
			if string(line) == string(last) {
				return nil
			}
			var st model.DeploymentGroupStatusResponse
			if err := json.Unmarshal(line, &st); err != nil {
				return stopWatch{fmt.Errorf("decode deployment group status %q: %w", line, err)}
			}
			if string(st.Status) == model.StatusDeploymentGroupNotFound {
				return stopWatch{errGroupNotFound(name)}
			}
			last = append(last[:0], line...)
			if err := fn(&st); err != nil {
				return stopWatch{err}
			}
			return nil
		})
		var stop stopWatch
		var ae *apiError
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &stop):
			return stop.err
		case isStatus(err, model.StatusDeploymentGroupNotFound):
			return errGroupNotFound(name)
		case errors.As(err, &ae):
			return err // no master could be reached in time, or one refused
		}
		c.log("deployment group watch stream ended, reconnecting: %v", err)
		if err := reopen.wait(ctx); err != nil {
			return err
		}
	}
}
