package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
)

// The master refuses at create what the job policy denies, naming field and rule, and
// writes nothing; a job it accepts with fields it does not know gets a warning.
func TestCreateEnforcesTheJobPolicy(t *testing.T) {
	e := newEnv(t)
	before := e.revision()
	for body, want := range map[string]string{
		`{"id":"root:1","image":"busybox","volumes":{"/host":"/"}}`:                 `volumes "/host": host path / is /`,
		`{"id":"sock:1","image":"busybox","volumes":{"/s":"/var/run/docker.sock"}}`: "/var/run or under it",
		`{"id":"sec:1","image":"busybox","securityOpt":["apparmor=unconfined"]}`:    "switches a protection off",
		`{"id":"tmp:1","image":"busybox","ramdisks":{"/r":"size=1000g"}}`:           "over this cluster's limit",
		`{"id":"tmp:2","image":"busybox","ramdisks":{"/r":"rw"}}`:                   "no size=",
		`{"id":"etc:1","image":"busybox","volumes":{"/e:ro":"/srv/../etc"}}`:        "is /etc or under it",
	} {
		var resp model.CreateJobResponse
		e.expect(e.do("POST", "/jobs", body), http.StatusBadRequest, model.StatusInvalidJobDefinition, &resp)
		if !strings.Contains(strings.Join(resp.Errors, "\n"), want) {
			t.Errorf("%s: errors %v, want one containing %q", body, resp.Errors, want)
		}
	}
	if e.revision() != before {
		t.Fatal("a refused job was written")
	}
	var resp model.CreateJobResponse
	e.expect(e.do("POST", "/jobs", `{"id":"ok:1","image":"busybox","volumes":{"/d":"/srv/data"},"someNewField":1}`), http.StatusOK, model.StatusOK, &resp)
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "someNewField") {
		t.Fatalf("warnings %v, want one naming someNewField", resp.Warnings)
	}
}
