package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/helios-go/helios/model"
)

// This file holds one method per REST call the commands make.

func (c *client) job(ctx context.Context, id model.JobID) (*model.Job, error) {
	var j model.Job
	if err := c.call(ctx, http.MethodGet, "/jobs/"+url.PathEscape(string(id)), nil, nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// createJob posts a job. A refusal comes back as the response, not an error, so the
// caller can print its list of errors.
func (c *client) createJob(ctx context.Context, job *model.Job) (*model.CreateJobResponse, error) {
	code, data, err := c.do(ctx, http.MethodPost, "/jobs", nil, job)
	if err != nil {
		return nil, err
	}
	var resp model.CreateJobResponse
	if json.Unmarshal(data, &resp) != nil || resp.Status == "" {
		return nil, decodeError(code, data)
	}
	return &resp, nil
}

func (c *client) removeJob(ctx context.Context, id model.JobID, token string) (*model.JobDeleteResponse, error) {
	return answer[model.JobDeleteResponse](c.do(ctx, http.MethodDelete, "/jobs/"+url.PathEscape(string(id)), tokenQuery(token), nil))
}

func (c *client) jobStatus(ctx context.Context, id model.JobID) (*model.JobStatus, error) {
	var st model.JobStatus
	if err := c.call(ctx, http.MethodGet, "/jobs/"+url.PathEscape(string(id))+"/status", nil, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func (c *client) history(ctx context.Context, id model.JobID) ([]model.TaskStatusEvent, error) {
	var ev model.TaskStatusEvents
	if err := c.call(ctx, http.MethodGet, "/history/jobs/"+url.PathEscape(string(id)), nil, nil, &ev); err != nil {
		return nil, err
	}
	return ev.Events, nil
}

func (c *client) hostStatuses(ctx context.Context, hosts []string) (map[string]model.HostStatus, error) {
	out := map[string]model.HostStatus{}
	if len(hosts) == 0 {
		return out, nil
	}
	return out, c.call(ctx, http.MethodPost, "/hosts/statuses", nil, hosts, &out)
}

func (c *client) registerHost(ctx context.Context, host, id string) (*model.HostRegisterResponse, error) {
	return answer[model.HostRegisterResponse](c.do(ctx, http.MethodPut, "/hosts/"+url.PathEscape(host), url.Values{"id": {id}}, nil))
}

func (c *client) deregisterHost(ctx context.Context, host string, allowUp bool) (*model.HostDeregisterResponse, error) {
	var q url.Values
	if allowUp {
		q = url.Values{"allowUp": {"true"}}
	}
	return answer[model.HostDeregisterResponse](c.do(ctx, http.MethodDelete, "/hosts/"+url.PathEscape(host), q, nil))
}

func (c *client) acceptRestore(ctx context.Context, host string) (*model.HostAcceptRestoreResponse, error) {
	return answer[model.HostAcceptRestoreResponse](c.do(ctx, http.MethodPost, "/hosts/"+url.PathEscape(host)+"/accept-restore", nil, nil))
}

func (c *client) deploy(ctx context.Context, host string, dep model.Deployment, token string) (*model.JobDeployResponse, error) {
	return answer[model.JobDeployResponse](c.do(ctx, http.MethodPut, deploymentPath(host, dep.JobID), tokenQuery(token), dep))
}

func (c *client) undeploy(ctx context.Context, host string, id model.JobID, token string) (*model.JobUndeployResponse, error) {
	return answer[model.JobUndeployResponse](c.do(ctx, http.MethodDelete, deploymentPath(host, id), tokenQuery(token), nil))
}

func (c *client) setGoal(ctx context.Context, host string, id model.JobID, goal model.Goal, token string) (*model.SetGoalResponse, error) {
	dep := model.Deployment{JobID: id, Goal: goal}
	return answer[model.SetGoalResponse](c.do(ctx, http.MethodPatch, deploymentPath(host, id), tokenQuery(token), dep))
}

func (c *client) whoami(ctx context.Context) (*model.WhoAmI, error) {
	var me model.WhoAmI
	if err := c.call(ctx, http.MethodGet, "/auth/whoami", nil, nil, &me); err != nil {
		return nil, err
	}
	return &me, nil
}

func (c *client) masters(ctx context.Context) ([]string, error) {
	code, data, err := c.do(ctx, http.MethodGet, "/masters", nil, nil)
	if err != nil {
		return nil, err
	}
	if code < 200 || code > 299 {
		return nil, decodeError(code, data)
	}
	var names []string
	if json.Unmarshal(data, &names) == nil {
		return names, nil
	}
	// Also accept a list of master descriptions.
	var infos []model.MasterInfo
	if err := json.Unmarshal(data, &infos); err != nil {
		return nil, fmt.Errorf("decode answer of GET /masters: %w", err)
	}
	for _, m := range infos {
		names = append(names, m.Name)
	}
	return names, nil
}

// version reads GET /version: plain text, or {"version": ...}.
func (c *client) version(ctx context.Context) (string, error) {
	code, data, err := c.do(ctx, http.MethodGet, "/version", nil, nil)
	if err != nil {
		return "", err
	}
	if code < 200 || code > 299 {
		return "", decodeError(code, data)
	}
	var v model.VersionResponse
	if json.Unmarshal(data, &v) == nil && v.Version != "" {
		return v.Version, nil
	}
	return string(bytes.TrimSpace(data)), nil
}

func deploymentPath(host string, id model.JobID) string {
	return "/hosts/" + url.PathEscape(host) + "/jobs/" + url.PathEscape(string(id))
}

func tokenQuery(token string) url.Values {
	if token == "" {
		return nil
	}
	return url.Values{"token": {token}}
}

// answer decodes a response body that carries a status word whatever the HTTP status, as
// the deploy, undeploy, goal, register and remove calls do.
func answer[T any](code int, data []byte, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	var probe struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(data, &probe) != nil || probe.Status == "" {
		return nil, decodeError(code, data)
	}
	var out T
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	return &out, nil
}
