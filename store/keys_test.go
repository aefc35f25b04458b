package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

func TestKeysLayout(t *testing.T) {
	id := model.JobID("web:1:abc")
	for _, tc := range []struct {
		name, prefix, got, want string
	}{
		{"default root", "", store.NewKeys("").Job(id), "/helios/config/jobs/web:1:abc"},
		{"trailing slash dropped", "/x/", store.NewKeys("/x/").Job(id), "/x/config/jobs/web:1:abc"},
		{"leading slash added", "x", store.NewKeys("x").Root(), "/x/"},
		{"job hosts", "", store.NewKeys("").JobHost(id, "h1"), "/helios/config/job-hosts/web:1:abc/h1"},
		{"host id", "", store.NewKeys("").HostID("h1"), "/helios/config/hosts/h1/id"},
		{"deployment", "", store.NewKeys("").Deployment("h1", id), "/helios/config/hosts/h1/jobs/web:1:abc"},
		{"port", "", store.NewKeys("").Port("h1", "udp", 53), "/helios/config/hosts/h1/ports/udp/53"},
		{"up", "", store.NewKeys("").Up("h1"), "/helios/status/hosts/h1/up"},
		{"info", "", store.NewKeys("").Info("h1"), "/helios/status/hosts/h1/info"},
		{"labels", "", store.NewKeys("").Labels("h1"), "/helios/status/hosts/h1/labels"},
		{"environment", "", store.NewKeys("").Environment("h1"), "/helios/status/hosts/h1/environment"},
		{"task status", "", store.NewKeys("").TaskStatus("h1", id), "/helios/status/hosts/h1/jobs/web:1:abc"},
		{"master", "", store.NewKeys("").Master("m1"), "/helios/status/masters/m1"},
		{"history event", "", store.NewKeys("").HistoryEvent(id, "h1", 42), "/helios/history/hosts/h1/jobs/web:1:abc/00000000000000000042"},
		{"legacy history event", "", store.NewKeys("").LegacyHistoryEvent(id, "h1", 42), "/helios/history/jobs/web:1:abc/h1/00000000000000000042"},
		{"election", "", store.NewKeys("").Election(), "/helios/election/controller/"},
		{"election key", "", store.NewKeys("").ElectionKey(0x694d9a0c4f2b7e11), "/helios/election/controller/694d9a0c4f2b7e11"},
		{"legacy election key", "", store.NewKeys("").LegacyElectionKey(0x694d9a0c4f2b7e11), "/helios/election/controller//694d9a0c4f2b7e11"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// A prefix of host web1 must not cover host web10's keys.
func TestKeysPrefixesEndInSlash(t *testing.T) {
	k := store.NewKeys("")
	id := model.JobID("web:1:abc")
	for _, p := range []string{k.Root(), k.Jobs(), k.JobHosts(id), k.Hosts(), k.Host("web1"), k.Deployments("web1"),
		k.Ports("web1"), k.HostStatuses(), k.HostStatus("web1"), k.TaskStatuses("web1"), k.Masters(),
		k.HostHistories(), k.HostHistoryRoot("web1"), k.HostHistory(id, "web1"), k.LegacyHistories(), k.LegacyHistory(id), k.LegacyHostHistory(id, "web1"), k.DeploymentGroups(), k.DeploymentGroupStatuses()} {
		if !strings.HasSuffix(p, "/") {
			t.Errorf("prefix %q does not end in /", p)
		}
	}
	if strings.HasPrefix(k.HostID("web10"), k.Host("web1")) {
		t.Errorf("%q covers %q", k.Host("web1"), k.HostID("web10"))
	}
}

func TestHistoryKeysSortByTime(t *testing.T) {
	k := store.NewKeys("")
	a, b := k.HistoryEvent("j:1:h", "h", 999), k.HistoryEvent("j:1:h", "h", 1000)
	if !(a < b) {
		t.Errorf("%q sorts after %q", a, b)
	}
	if got := len(store.Base(b)); got != 20 {
		t.Errorf("timestamp segment has %d digits, want 20", got)
	}
}

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"web1", true},
		{"web:1:0123", true},
		{"host.example.com", true},
		{"", false},
		{"a/b", false},
		{"/", false},
		{"trailing/", false},
	} {
		err := store.ValidName("host", tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, store.ErrInvalidName) {
			t.Errorf("ValidName(%q) = %v, want ErrInvalidName", tc.name, err)
		}
	}
}

// Any name ValidName accepts is exactly one key segment: Base gives it back and the host's
// prefix holds its keys and no other host's.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{"web1", "", "a/b", "web:1:abc", "..", "\x00"} {
		f.Add(s)
	}
	k := store.NewKeys("/root")
	f.Fuzz(func(t *testing.T, name string) {
		if store.ValidName("host", name) != nil {
			return
		}
		if got := store.Base(k.HostID(name)); got != "id" {
			t.Fatalf("Base(HostID(%q)) = %q", name, got)
		}
		if got := store.Base(k.Deployment(name, "j:1:h")); got != "j:1:h" {
			t.Fatalf("Base(Deployment(%q)) = %q", name, got)
		}
		if !strings.HasPrefix(k.Up(name), k.HostStatus(name)) || strings.HasPrefix(k.Up(name+"x"), k.HostStatus(name)) {
			t.Fatalf("host status prefix of %q is wrong", name)
		}
	})
}
