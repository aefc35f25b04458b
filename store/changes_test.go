package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

func TestClassifyKey(t *testing.T) {
	k := store.NewKeys("/h")
	tests := []struct {
		key  string
		want model.KeyChange // Kind "" = not an event key
	}{
		{k.Job("a:1:x"), model.KeyChange{Kind: model.KeyJob, Job: "a:1:x"}},
		{k.Deployment("web1", "a:1:x"), model.KeyChange{Kind: model.KeyDeployment, Host: "web1", Job: "a:1:x"}},
		{k.HostID("web1"), model.KeyChange{Kind: model.KeyHostID, Host: "web1"}},
		{k.Up("web1"), model.KeyChange{Kind: model.KeyHostUp, Host: "web1"}},
		{k.RestoreSuspected("web1"), model.KeyChange{Kind: model.KeyRestoreSuspected, Host: "web1"}},
		{k.TaskStatus("web1", "a:1:x"), model.KeyChange{Kind: model.KeyTaskStatus, Host: "web1", Job: "a:1:x"}},
		{k.DeploymentGroup("g"), model.KeyChange{Kind: model.KeyGroup, Name: "g"}},
		{k.DeploymentGroupStatus("g"), model.KeyChange{Kind: model.KeyGroupStatus, Name: "g"}},
		{k.Master("m1"), model.KeyChange{Kind: model.KeyMaster, Name: "m1"}},
		{k.JobDef("web1", "a:1:x"), model.KeyChange{}},
		{k.JobHost("a:1:x", "web1"), model.KeyChange{}},
		{k.Port("web1", "tcp", 80), model.KeyChange{}},
		{k.Labels("web1"), model.KeyChange{}},
		{k.DownSince("web1"), model.KeyChange{}},
		{k.HistoryEvent("a:1:x", "web1", 5), model.KeyChange{}},
		{k.ElectionKey(7), model.KeyChange{}},
		{k.ClusterID(), model.KeyChange{}},
		{k.Jobs(), model.KeyChange{}},
		{k.Jobs() + "a/b", model.KeyChange{}},
		{k.Deployments("web1") + "a/b", model.KeyChange{}},
		{k.Hosts() + "/id", model.KeyChange{}},
		{"/other" + k.Job("a:1:x"), model.KeyChange{}},
	}
	for _, tt := range tests {
		got, ok := k.ClassifyKey(tt.key)
		if ok != (tt.want.Kind != "") || got.Kind != tt.want.Kind || got.Host != tt.want.Host || got.Job != tt.want.Job || got.Name != tt.want.Name {
			t.Errorf("ClassifyKey(%q) = %+v, %v; want %+v", tt.key, got, ok, tt.want)
		}
	}
}

func TestWatchChangesDeliversPrevValuesAndReportsCompaction(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{RequestTimeout: 2 * time.Second})
	ctx := testCtx(t)
	start, err := s.Revision(ctx)
	mustNil(t, "Revision", err)
	mustNil(t, "RegisterHost", s.RegisterHost(ctx, "web1", "id1"))
	mustNil(t, "RegisterHost again", s.RegisterHost(ctx, "web1", "id2"))
	wctx, cancel := context.WithCancel(ctx)
	var got []model.KeyChange
	err = s.WatchChanges(wctx, start+1, func(cs []model.KeyChange, reached int64) {
		for _, c := range cs {
			if c.Kind == model.KeyHostID {
				got = append(got, c)
			}
		}
		if len(got) == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WatchChanges: %v, want context.Canceled", err)
	}
	if got[0].Prev != nil || string(got[0].Value) != "id1" || string(got[1].Prev) != "id1" || got[1].Revision <= got[0].Revision {
		t.Fatalf("changes %+v: want a creation, then a rewrite with the previous id", got)
	}

	now := revision(t, cli)
	if _, err := cli.Compact(ctx, now); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckRevision(ctx, start); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("CheckRevision of a compacted revision: %v, want ErrCompacted", err)
	}
	mustNil(t, "CheckRevision of the current revision", s.CheckRevision(ctx, now))
	mustNil(t, "CheckRevision of a future revision", s.CheckRevision(ctx, now+10))
	err = s.WatchChanges(ctx, start+1, func([]model.KeyChange, int64) { t.Error("events from a compacted revision") })
	if !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("WatchChanges from a compacted revision: %v, want ErrCompacted", err)
	}
}
