package daemon

import (
	"strings"
	"testing"

	"github.com/helios-go/helios/test/harness"
)

func TestParseDiscovery(t *testing.T) {
	for _, tc := range []struct {
		domain, advertise, path string
		want                    Discovery
		err                     string
	}{
		{"", "", "/skydns", Discovery{SkyDNSPath: "/skydns"}, ""},
		{"Example.Local.", "10.0.0.5", "skydns/", Discovery{Domain: "example.local", AdvertiseAddress: "10.0.0.5", SkyDNSPath: "/skydns"}, ""},
		{"example.local", "node1.example.local", "/dns/sky", Discovery{Domain: "example.local", AdvertiseAddress: "node1.example.local", SkyDNSPath: "/dns/sky"}, ""},
		{"example.local", "::1", "/skydns", Discovery{Domain: "example.local", AdvertiseAddress: "::1", SkyDNSPath: "/skydns"}, ""},
		{"a..b", "", "/skydns", Discovery{}, "--domain: invalid domain"},
		{"", "not an address", "/skydns", Discovery{}, "--advertise-address \"not an address\" is neither"},
		{"", "", "/", Discovery{}, "--skydns-path: empty"},
		{"", "", "/a//b", Discovery{}, "empty segment"},
		{"", "", "/a b", Discovery{}, "blank or unprintable"},
	} {
		got, err := ParseDiscovery(tc.domain, tc.advertise, tc.path)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseDiscovery(%q, %q, %q) = %v, want %q", tc.domain, tc.advertise, tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDiscovery(%q, %q, %q) = %+v, %v; want %+v", tc.domain, tc.advertise, tc.path, got, err, tc.want)
		}
	}
}

func FuzzParseDiscovery(f *testing.F) {
	f.Add("example.local", "10.0.0.1", "/skydns")
	f.Add("a..b", "x y", "//")
	f.Fuzz(func(t *testing.T, domain, advertise, path string) {
		d, err := ParseDiscovery(domain, advertise, path)
		if err != nil {
			return
		}
		if !strings.HasPrefix(d.SkyDNSPath, "/") || strings.HasSuffix(d.SkyDNSPath, "/") || strings.Contains(d.SkyDNSPath, "//") {
			t.Fatalf("path %q accepted as %q", path, d.SkyDNSPath)
		}
		if strings.HasSuffix(d.Domain, ".") || strings.ContainsAny(d.Domain+d.AdvertiseAddress, " /") {
			t.Fatalf("accepted %+v", d)
		}
	})
}

func TestPrimaryAddressIsNotLoopback(t *testing.T) {
	a, err := PrimaryAddress()
	if err != nil {
		harness.Missing(t, "this host has no non-loopback address for PrimaryAddress to find: %v", err)
	}
	if strings.HasPrefix(a, "127.") || a == "::1" {
		t.Fatalf("PrimaryAddress = %s", a)
	}
}
