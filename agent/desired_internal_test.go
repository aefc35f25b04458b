package agent

import (
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

func TestDesiredCacheFollowsWatchByRevision(t *testing.T) {
	c := newDesiredCache("/h/config/hosts/a/", func(j *model.Job) cachedJob { return cachedJob{job: j} })
	if _, _, filled := c.desired(); filled {
		t.Fatal("an empty cache says it is filled")
	}
	c.reset([]store.KV{
		{Key: "/h/config/hosts/a/jobs/x:1:abc", Value: []byte(`{"jobId":"x:1:abc","goal":"START"}`), ModRevision: 5},
		{Key: "/h/config/hosts/a/id", Value: []byte(`someid`), ModRevision: 2},
		{Key: "/h/config/hosts/a/ports/tcp/80", Value: []byte(`{}`), ModRevision: 3},
	}, 10)
	got, unread, filled := c.desired()
	if !filled || len(got) != 1 || got["x:1:abc"].Goal != model.GoalStart || len(unread) != 1 {
		t.Fatalf("after the list: %+v unread %v filled %v; want x:1:abc START, its job unread", got, unread, filled)
	}
	j := &model.Job{ID: "x:1:abc"}
	c.addJob("x:1:abc", cachedJob{job: j, specHash: "h"})
	if got, unread, _ := c.desired(); got["x:1:abc"].Job != j || got["x:1:abc"].SpecHash != "h" || len(unread) != 0 {
		t.Fatalf("after addJob: %+v unread %v; want the job kept, hashed once", got, unread)
	}

	// One transaction's events share a revision: both apply.
	ch := c.apply([]store.Event{
		{Type: store.EventPut, Key: "/h/config/hosts/a/jobs/x:1:abc", Value: []byte(`{"jobId":"x:1:abc","goal":"STOP"}`), Revision: 11},
		{Type: store.EventPut, Key: "/h/config/hosts/a/jobs/y:1:def", Value: []byte(`{"jobId":"y:1:def","goal":"START"}`), Revision: 11},
		{Type: store.EventPut, Key: "/h/config/hosts/a/ports/tcp/81", Value: []byte(`{}`), Revision: 12},
	})
	if len(ch) != 2 {
		t.Fatalf("changed jobs %v; want x and y (not the port key)", ch)
	}
	got, _, _ = c.desired()
	if got["x:1:abc"].Goal != model.GoalStop || got["x:1:abc"].Job != j || got["y:1:def"].Goal != model.GoalStart {
		t.Fatalf("after events: %+v; want x STOP with its job kept, y START", got)
	}

	// A resync's list older than the watch is ignored; a newer one replaces.
	if c.replace(map[model.JobID]cachedDeployment{}, nil, 11) {
		t.Fatal("a list older than the cache replaced it")
	}
	if !c.replace(map[model.JobID]cachedDeployment{"y:1:def": {dep: model.Deployment{JobID: "y:1:def", Goal: model.GoalStart}, modRev: 20}}, nil, 20) {
		t.Fatal("a newer list did not replace the cache")
	}
	got, _, _ = c.desired()
	if _, ok := got["x:1:abc"]; ok || len(got) != 1 {
		t.Fatalf("after the newer list: %+v; want only y", got)
	}
	if ch := c.apply([]store.Event{{Type: store.EventDelete, Key: "/h/config/hosts/a/jobs/y:1:def", Revision: 19}}); len(ch) != 0 {
		t.Fatalf("an event older than the list applied: %v", ch)
	}
	c.apply([]store.Event{{Type: store.EventDelete, Key: "/h/config/hosts/a/jobs/y:1:def", Revision: 21}})
	if got, _, _ := c.desired(); len(got) != 0 {
		t.Fatalf("after the delete: %+v", got)
	}
}
