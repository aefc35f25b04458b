package groups

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/test/harness"
)

// fleet is a master and the hollow agents of one test.
type fleet struct {
	t      *testing.T
	st     *store.Store // the store the hollow agents and the assertions use
	url    string       // a master's API
	ctx    context.Context
	agents map[string]*harness.HollowAgent
	// healthInterval is the agents' first health check delay: how long a host with a
	// health check takes to reach RUNNING.
	healthInterval time.Duration
}

func newFleet(t *testing.T, opts ...harness.MasterOption) *fleet {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := harness.StartMaster(t, opts...)
	return &fleet{t: t, st: m.Store, url: m.URL, ctx: ctx, agents: map[string]*harness.HollowAgent{}, healthInterval: 50 * time.Millisecond}
}

// agent starts a hollow agent named name with labels and waits until it is up.
func (f *fleet) agent(name string, labels map[string]string) *harness.HollowAgent {
	f.t.Helper()
	st := f.st
	h := harness.StartHollow(f.t, harness.Hollow{Name: name, Labels: labels, Store: st, HealthCheckInterval: f.healthInterval})
	f.agents[name] = h
	f.waitFor(30*time.Second, name+" up", func() (bool, error) {
		hs, err := st.HostStatus(f.ctx, name)
		if err != nil {
			return false, nil
		}
		return hs.Status == model.HostUp && len(hs.Labels) == len(labels), nil
	})
	return h
}

// call sends a JSON request to the master and decodes the JSON answer into out.
func (f *fleet) call(method, path string, body, out any) int {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(f.ctx, method, f.url+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			f.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// job creates a job and returns its id.
func (f *fleet) job(j model.Job) model.JobID {
	f.t.Helper()
	var resp model.CreateJobResponse
	if code := f.call("POST", "/jobs", j, &resp); code != http.StatusOK {
		f.t.Fatalf("create job %s: %d %+v", j.ID, code, resp)
	}
	return resp.ID
}

// group creates a deployment group over selectors like "role=web".
func (f *fleet) group(name string, selectors ...string) {
	f.t.Helper()
	sels, err := model.ParseHostSelectors(selectors)
	if err != nil {
		f.t.Fatal(err)
	}
	var resp model.CreateDeploymentGroupResponse
	if code := f.call("POST", "/deployment-group", model.DeploymentGroup{Name: name, HostSelectors: sels}, &resp); code != http.StatusOK || resp.Status != model.StatusCreated {
		f.t.Fatalf("create group %s: %d %+v", name, code, resp)
	}
}

// roll starts a rolling update and fails the test unless the master accepts it.
func (f *fleet) roll(group string, id model.JobID, opts *model.RolloutOptions) {
	f.t.Helper()
	if opts == nil {
		opts = &model.RolloutOptions{}
	}
	var resp model.RollingUpdateResponse
	if code := f.call("POST", "/deployment-group/"+group+"/rolling-update", model.RollingUpdateRequest{Job: id, RolloutOptions: opts}, &resp); code != http.StatusOK {
		f.t.Fatalf("rolling-update %s %s: %d %+v", group, id, code, resp)
	}
}

func (f *fleet) status(group string) model.DeploymentGroupStatusResponse {
	f.t.Helper()
	var st model.DeploymentGroupStatusResponse
	if code := f.call("GET", "/deployment-group/"+group+"/status", nil, &st); code != http.StatusOK {
		f.t.Fatalf("status of %s: %d", group, code)
	}
	return st
}

// waitState waits until the group's status is want and returns it.
func (f *fleet) waitState(group string, want model.GroupState, within time.Duration) model.DeploymentGroupStatusResponse {
	f.t.Helper()
	var st model.DeploymentGroupStatusResponse
	f.waitFor(within, fmt.Sprintf("group %s %s", group, want), func() (bool, error) {
		st = f.status(group)
		return st.Status == want && !st.RollingBack, fmt.Errorf("status %s (error %q, task %d of %d, rolling back %v), hosts %s",
			st.Status, st.Error, st.TaskIndex, st.TaskCount, st.RollingBack, hostsLine(st))
	})
	return st
}

// deployments is what each named host has deployed: host -> job ids.
func (f *fleet) deployments(hosts ...string) map[string][]model.JobID {
	f.t.Helper()
	out := map[string][]model.JobID{}
	for _, h := range hosts {
		hs, err := f.st.HostStatus(f.ctx, h)
		if err != nil {
			f.t.Fatal(err)
		}
		for id := range hs.Jobs {
			out[h] = append(out[h], id)
		}
	}
	return out
}

func (f *fleet) waitFor(within time.Duration, what string, cond func() (bool, error)) {
	f.t.Helper()
	deadline := time.Now().Add(within)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		time.Sleep(20 * time.Millisecond)
	}
	f.t.Fatalf("timed out after %s waiting for %s (last error: %v)", within, what, lastErr)
}

func intp(v int) *int       { return &v }
func int64p(v int64) *int64 { return &v }
func boolp(v bool) *bool    { return &v }
func strp(v string) *string { return &v }

func hostsLine(st model.DeploymentGroupStatusResponse) string {
	var b strings.Builder
	for _, h := range st.HostStatuses {
		fmt.Fprintf(&b, "%s=", h.Host)
		if h.JobID != nil {
			fmt.Fprintf(&b, "%s", *h.JobID)
		}
		if h.State != nil {
			fmt.Fprintf(&b, "/%s", *h.State)
		}
		b.WriteString(" ")
	}
	return b.String()
}
