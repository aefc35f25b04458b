package agent

import (
	"slices"
	"testing"
	"time"
)

func TestOwnedBy(t *testing.T) {
	ctr := func(id string, labels ...string) Container {
		l := map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			l[labels[i]] = labels[i+1]
		}
		return Container{ID: id, Labels: l}
	}
	recorded := map[string]bool{"rec-legacy": true, "rec-old-cluster": true}
	ctrs := []Container{
		ctr("mine", LabelHost, "h", LabelCluster, "c1"),
		ctr("other-cluster", LabelHost, "h", LabelCluster, "c2"),
		ctr("other-host", LabelHost, "h2", LabelCluster, "c1"),
		ctr("legacy", LabelHost, "h"),
		ctr("rec-legacy", LabelHost, "h"),
		ctr("rec-old-cluster", LabelHost, "h", LabelCluster, "c0"),
		ctr("rec-other-host", LabelHost, "h2"),
	}
	for _, tc := range []struct {
		name, cluster string
		mine          []string
	}{
		{"known cluster", "c1", []string{"mine", "rec-legacy", "rec-old-cluster"}},
		{"cluster unknown yet: only recorded ones", "", []string{"rec-legacy", "rec-old-cluster"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mine, others := ownedBy(ctrs, "h", tc.cluster, func(id string) bool { return recorded[id] })
			if got := containerIDs(mine); !slices.Equal(got, tc.mine) {
				t.Errorf("mine = %v, want %v", got, tc.mine)
			}
			if len(mine)+len(others) != len(ctrs) {
				t.Errorf("mine %v + others %v do not cover every container", containerIDs(mine), containerIDs(others))
			}
		})
	}
}

func TestSortOutRecordsAdoptedAndForgetsGone(t *testing.T) {
	dir := t.TempDir()
	id, err := loadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := id.setCluster("c1"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	ctrs := []Container{
		{ID: "labelled", Labels: map[string]string{LabelHost: "h", LabelCluster: "c1"}},
		{ID: "named", Labels: map[string]string{LabelHost: "h"}},
		{ID: "foreign", Labels: map[string]string{LabelHost: "h", LabelCluster: "c2"}},
	}
	_, _, newOthers, err := id.sortOut(ctrs, "h", map[string]bool{"named": true}, t0, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(newOthers) != 1 || newOthers[0].ID != "foreign" {
		t.Errorf("new others = %v, want foreign", newOthers)
	}
	if _, _, again, _ := id.sortOut(ctrs, "h", nil, t0.Add(time.Second), false); len(again) != 0 {
		t.Errorf("others reported again: %v", again)
	}

	// A new agent on the dir knows both without etcd's statuses, and its cluster id.
	id2, err := loadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if id2.Cluster() != "c1" {
		t.Errorf("cluster id kept = %q, want c1", id2.Cluster())
	}
	if err := id2.record("fresh"); err != nil {
		t.Fatal(err)
	}
	// "named" is gone from the engine; "fresh" was created after the listing began.
	mine, _, _, err := id2.sortOut(ctrs[:1], "h", nil, time.Now().Add(-time.Minute), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := containerIDs(mine); !slices.Equal(got, []string{"labelled"}) {
		t.Errorf("mine = %v", got)
	}
	id3, err := loadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for c := range id3.owned {
		kept = append(kept, c)
	}
	slices.Sort(kept)
	if !slices.Equal(kept, []string{"fresh", "labelled"}) {
		t.Errorf("record = %v, want fresh and labelled (named is gone)", kept)
	}
}

func containerIDs(cs []Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}
