package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
)

func TestDeployStatusWords(t *testing.T) {
	e := newEnv(t)
	id := e.createJob(`{"id":"web:1","image":"busybox","token":"tok","ports":{"http":{"internalPort":80,"externalPort":8080}}}`)
	other := e.createJob(`{"id":"other:1","image":"busybox","ports":{"p":{"internalPort":81,"externalPort":8080}}}`)
	e.registerHost("h1")
	unknownJob := "nope:1:" + strings.Repeat("a", 40)
	path := "/hosts/h1/jobs/" + string(id)

	cases := []struct {
		name, method, path string
		body               any
		code               int
		status             string
	}{
		{"host not found", "PUT", "/hosts/h9/jobs/" + string(id) + "?token=tok", `{}`, 400, model.StatusHostNotFound},
		{"job not found", "PUT", "/hosts/h1/jobs/" + unknownJob, `{}`, 400, model.StatusJobNotFound},
		{"partial id", "PUT", "/hosts/h1/jobs/web:1", `{}`, 400, model.StatusInvalidID},
		{"body names another job", "PUT", path + "?token=tok", `{"jobId":"` + string(other) + `"}`, 400, model.StatusIDMismatch},
		{"bad goal", "PUT", path + "?token=tok", `{"goal":"FLY"}`, 400, model.StatusBadRequest},
		{"malformed body", "PUT", path + "?token=tok", `{"goal":`, 400, model.StatusBadRequest},
		{"no token", "PUT", path, `{}`, 403, model.StatusForbidden},
		{"wrong token", "PUT", path + "?token=bad", `{}`, 403, model.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.revision()
			e.expect(e.do(c.method, c.path, c.body), c.code, c.status, nil)
			if after := e.revision(); after != before {
				t.Fatalf("rejected deploy wrote to etcd: revision %d -> %d", before, after)
			}
		})
	}

	var dr model.JobDeployResponse
	e.expect(e.do("PUT", path+"?token=tok&user=bob", `{"jobId":"`+string(id)+`","deploymentGroupName":"sneaky"}`), http.StatusOK, model.StatusOK, &dr)
	if dr.Job != id || dr.Host != "h1" {
		t.Fatalf("deploy response %+v", dr)
	}
	var dep model.Deployment
	e.expect(e.do("GET", path, nil), http.StatusOK, "", &dep)
	want := model.Deployment{JobID: id, Goal: model.GoalStart, DeployerUser: "bob", DeployerMaster: "master-a"}
	if dep != want {
		t.Fatalf("deployment = %+v, want %+v", dep, want)
	}

	var conflict model.JobDeployResponse
	e.expect(e.do("PUT", path+"?token=tok", `{}`), 400, model.StatusJobAlreadyDeployed, nil)
	e.expect(e.do("PUT", "/hosts/h1/jobs/"+string(other), `{}`), 400, model.StatusPortConflict, &conflict)
	if !strings.Contains(conflict.Message, "8080") {
		t.Fatalf("port conflict message %q does not name the port", conflict.Message)
	}
}

func TestSetGoal(t *testing.T) {
	e := newEnv(t)
	id := e.createJob(`{"id":"web:1","image":"busybox","token":"tok"}`)
	e.registerHost("h1")
	path := "/hosts/h1/jobs/" + string(id)

	e.expect(e.do("PATCH", path+"?token=tok", `{"goal":"STOP"}`), http.StatusNotFound, model.StatusJobNotDeployed, nil)
	e.expect(e.do("PUT", path+"?token=tok", `{"goal":"start"}`), http.StatusOK, model.StatusOK, nil)

	cases := []struct {
		name, path, body string
		code             int
		status           string
	}{
		{"wrong token", path + "?token=bad", `{"goal":"STOP"}`, 403, model.StatusForbidden},
		{"bad goal", path + "?token=tok", `{"goal":"FLY"}`, 400, model.StatusBadRequest},
		{"no goal", path + "?token=tok", `{}`, 400, model.StatusBadRequest},
		{"no body", path + "?token=tok", ``, 400, model.StatusBadRequest},
		{"partial id", "/hosts/h1/jobs/web:1?token=tok", `{"goal":"STOP"}`, 400, model.StatusInvalidID},
		{"id mismatch", path + "?token=tok", `{"goal":"STOP","jobId":"web:1:` + strings.Repeat("b", 40) + `"}`, 400, model.StatusIDMismatch},
		{"host not found", "/hosts/h9/jobs/" + string(id) + "?token=tok", `{"goal":"STOP"}`, 404, model.StatusHostNotFound},
		{"job not found", "/hosts/h1/jobs/web:1:" + strings.Repeat("c", 40) + "?token=tok", `{"goal":"STOP"}`, 404, model.StatusJobNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.revision()
			e.expect(e.do("PATCH", c.path, c.body), c.code, c.status, nil)
			if after := e.revision(); after != before {
				t.Fatalf("rejected set-goal wrote to etcd: revision %d -> %d", before, after)
			}
		})
	}

	var sr model.SetGoalResponse
	e.expect(e.do("PATCH", path+"?token=tok", `{"goal":"stop"}`), http.StatusOK, model.StatusOK, &sr)
	if sr.Job != id || sr.Host != "h1" {
		t.Fatalf("set-goal response %+v", sr)
	}
	var dep model.Deployment
	e.expect(e.do("GET", path, nil), http.StatusOK, "", &dep)
	if dep.Goal != model.GoalStop {
		t.Fatalf("goal after PATCH = %s, want STOP", dep.Goal)
	}
}

func TestUndeploy(t *testing.T) {
	e := newEnv(t)
	id := e.createJob(`{"id":"web:1","image":"busybox","token":"tok"}`)
	e.registerHost("h1")
	path := "/hosts/h1/jobs/" + string(id)
	e.expect(e.do("PUT", path+"?token=tok", `{}`), http.StatusOK, model.StatusOK, nil)

	e.expect(e.do("DELETE", path+"?token=bad", nil), http.StatusForbidden, model.StatusForbidden, nil)
	e.expect(e.do("DELETE", "/hosts/h9/jobs/"+string(id)+"?token=tok", nil), http.StatusNotFound, model.StatusHostNotFound, nil)
	e.expect(e.do("DELETE", "/hosts/h1/jobs/web:1:"+strings.Repeat("d", 40), nil), http.StatusNotFound, model.StatusJobNotFound, nil)
	e.expect(e.do("DELETE", "/hosts/h1/jobs/web:1", nil), http.StatusBadRequest, model.StatusInvalidID, nil)

	var ur model.JobUndeployResponse
	e.expect(e.do("DELETE", path+"?token=tok", nil), http.StatusOK, model.StatusOK, &ur)
	if ur.Job != id || ur.Host != "h1" {
		t.Fatalf("undeploy response %+v", ur)
	}
	e.expect(e.do("GET", path, nil), http.StatusNotFound, model.StatusJobNotDeployed, nil)

	var again model.JobUndeployResponse
	e.expect(e.do("DELETE", path+"?token=tok", nil), http.StatusNotFound, model.StatusJobNotFound, &again)
	if !strings.Contains(again.Message, "not deployed") {
		t.Fatalf("undeploying twice says %q, want it to say the job is not deployed there", again.Message)
	}
}
