package store_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/helios-go/helios/store"
)

func TestParseAuthUser(t *testing.T) {
	for _, tc := range []struct {
		name, host string
		ok         bool
	}{
		{"root", "", true},
		{"helios-master", "", true},
		{"helios-reader", "", true},
		{"helios-agent-web1", "web1", true},
		{"helios-agent-web1.example.com", "web1.example.com", true},
		{"helios-agent-", "", false},
		{"helios-agent-bad host", "", false},
		{"helios-agent-a/b", "", false},
		{"helios-agent-" + strings.Repeat("a", 64), "", false},
		{"alice", "", false},
		{"", "", false},
		{"root\n", "", false},
		{"helios-agent-\xff", "", false},
	} {
		host, err := store.ParseAuthUser(tc.name)
		if (err == nil) != tc.ok || host != tc.host {
			t.Errorf("ParseAuthUser(%q) = %q, %v; want host %q, ok %v", tc.name, host, err, tc.host, tc.ok)
		}
		if err != nil && !errors.Is(err, store.ErrInvalidName) {
			t.Errorf("ParseAuthUser(%q): %v does not wrap ErrInvalidName", tc.name, err)
		}
	}
}

func FuzzParseAuthUser(f *testing.F) {
	for _, s := range []string{"root", "helios-agent-web1", "helios-agent-", "x", "helios-agent-a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		host, err := store.ParseAuthUser(name)
		if err != nil {
			return
		}
		if !utf8.ValidString(name) {
			t.Fatalf("accepted invalid UTF-8 %q", name)
		}
		if host != "" && store.AgentUser(host) != name {
			t.Fatalf("%q parsed to host %q, which names user %q", name, host, store.AgentUser(host))
		}
		if host != "" && strings.ContainsAny(host, "/ \n\x00*") {
			t.Fatalf("%q parsed to host %q, which cannot be a key segment", name, host)
		}
	})
}

func TestParseSkyDNSPath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "/skydns", true},
		{"/skydns", "/skydns", true},
		{"/skydns/", "/skydns", true},
		{"/dns/skydns", "/dns/skydns", true},
		{"skydns", "", false},
		{"/", "", false},
		{"//skydns", "", false},
		{"/sky dns", "", false},
		{"/a/../b", "", false},
		{"/a/./b", "", false},
		{"/é", "", false},
	} {
		got, err := store.ParseSkyDNSPath(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSkyDNSPath(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseSkyDNSPath(f *testing.F) {
	for _, s := range []string{"", "/skydns", "/a/b/", "x", "/a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := store.ParseSkyDNSPath(in)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
			t.Fatalf("%q parsed to %q", in, p)
		}
		again, err := store.ParseSkyDNSPath(p)
		if err != nil || again != p {
			t.Fatalf("%q parsed to %q, which parses to %q, %v", in, p, again, err)
		}
	})
}

// An agent's role covers its own host's ranges only: none of its ranges holds a key of
// another host (web1 against web10 too), nor config/jobs/.
func TestAgentRoleRanges(t *testing.T) {
	k := store.NewKeys("")
	role := k.AgentRole("web1", "")
	covers := func(key string) (store.Access, bool) {
		var best store.Access
		found := false
		for _, g := range role.Grants {
			if key == g.Key || (g.Prefix && strings.HasPrefix(key, g.Key)) {
				found = true
				if g.Access == store.AccessReadWrite || best == "" {
					best = g.Access
				}
			}
		}
		return best, found
	}
	for _, tc := range []struct {
		key  string
		want store.Access // "" = not covered
	}{
		{k.Deployment("web1", "j:1:h"), store.AccessRead},
		{k.JobDef("web1", "j:1:h"), store.AccessRead},
		{k.HostID("web1"), store.AccessReadWrite},
		{k.Up("web1"), store.AccessReadWrite},
		{k.TaskStatus("web1", "j:1:h"), store.AccessReadWrite},
		{k.HostStatus("web1") + "endpoints/x", store.AccessReadWrite},
		{k.HistoryEvent("j:1:h", "web1", 1), store.AccessReadWrite},
		{k.ClusterUID(), store.AccessRead},
		{k.ClusterID(), store.AccessRead},
		{"/skydns/local/x", store.AccessRead},
		{k.ElectionKey(7), store.AccessRead},
		{k.Job("j:1:h"), ""},
		{k.Deployment("web10", "j:1:h"), ""},
		{k.HostID("web10"), ""},
		{k.Up("web10"), ""},
		{k.HistoryEvent("j:1:h", "web10", 1), ""},
		{k.LegacyHistoryEvent("j:1:h", "web1", 1), ""},
		{k.JobHost("j:1:h", "web1"), ""},
		{k.Master("m"), ""},
	} {
		got, _ := covers(tc.key)
		if got != tc.want {
			t.Errorf("agent web1 on %s: %q, want %q", tc.key, got, tc.want)
		}
	}
}
