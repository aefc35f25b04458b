package model

import (
	"reflect"
	"strings"
	"testing"
)

func TestResolveRegistrationDomain(t *testing.T) {
	for _, tc := range []struct{ reg, agent, want string }{
		{"", "example.local", "example.local"},
		{"", "example.local.", "example.local"},
		{"shop", "example.local", "shop.example.local"},
		{"Shop", "Example.Local", "shop.example.local"},
		{"other.org.", "example.local", "other.org"},
		{"shop", "", "shop"},
	} {
		if got := ResolveRegistrationDomain(tc.reg, tc.agent); got != tc.want {
			t.Errorf("ResolveRegistrationDomain(%q, %q) = %q, want %q", tc.reg, tc.agent, got, tc.want)
		}
	}
}

func TestEndpointsOfRegistersTheNamedPortsExternalPort(t *testing.T) {
	ext := func(p int) *int { return &p }
	j := &Job{ID: "web:1:abc",
		Ports: map[string]PortMapping{"http": {InternalPort: 8080}, "admin": {InternalPort: 9090}},
		Registration: map[string]ServicePorts{
			"website/tcp": {Ports: map[string]ServicePortParameters{"http": {Tags: []string{"blue"}}}},
			"admin":       {Ports: map[string]ServicePortParameters{"admin": {}}},
		},
		RegistrationDomain: "shop",
	}
	bound := map[string]PortMapping{"http": {InternalPort: 8080, ExternalPort: ext(20001)}, "admin": {InternalPort: 9090, ExternalPort: ext(20002)}}
	got := EndpointsOf(j, bound, "example.local", "10.0.0.5")
	want := []Endpoint{
		{Service: "admin", Proto: "tcp", Name: "_admin._tcp.shop.example.local", Host: "10.0.0.5", Port: 20002, JobID: "web:1:abc", PortName: "admin"},
		{Service: "website", Proto: "tcp", Name: "_website._tcp.shop.example.local", Host: "10.0.0.5", Port: 20001, Tags: []string{"blue"}, JobID: "web:1:abc", PortName: "http"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("EndpointsOf =\n%+v\nwant\n%+v", got, want)
	}
}

func TestEndpointsOfUsesTheOnlyPortWhenNoneIsNamed(t *testing.T) {
	p := 20005
	j := &Job{ID: "a:1:h", Ports: map[string]PortMapping{"p": {InternalPort: 1}}, Registration: map[string]ServicePorts{"svc/udp": {}}}
	got := EndpointsOf(j, map[string]PortMapping{"p": {InternalPort: 1, ExternalPort: &p}}, "d.", "h")
	if len(got) != 1 || got[0].Name != "_svc._udp.d" || got[0].Port != 20005 || got[0].PortName != "p" {
		t.Fatalf("EndpointsOf = %+v", got)
	}
}

func TestEndpointsOfSkipsPortsNotBound(t *testing.T) {
	j := &Job{ID: "a:1:h", Ports: map[string]PortMapping{"p": {InternalPort: 1}}, Registration: map[string]ServicePorts{"svc": {}}}
	if got := EndpointsOf(j, map[string]PortMapping{"p": {InternalPort: 1}}, "d", "h"); len(got) != 0 {
		t.Fatalf("EndpointsOf = %+v, want none", got)
	}
}

func TestValidateDomain(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"example.local", ""},
		{"example.local.", ""},
		{"_sub.example", ""},
		{"", "empty"},
		{".", "empty"},
		{"a..b", "empty label"},
		{".a", "empty label"},
		{"a b", `has ' '`},
		{"a/b", `has '/'`},
		{strings.Repeat("a", 64) + ".b", "at most 63"},
		{strings.Repeat("a.", 127) + "ab", "at most 253"},
	} {
		err := ValidateDomain(tc.in)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ValidateDomain(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func FuzzValidateDomain(f *testing.F) {
	for _, s := range []string{"example.local", "a..b", "x.", "", "_a-b.c_d", "ü.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateDomain(s) != nil {
			return
		}
		// An accepted domain makes a name CoreDNS can hold: labels that never hold a '/' or
		// a dot of their own, and resolving keeps it valid.
		if strings.Contains(s, "/") || strings.Contains(strings.TrimSuffix(s, "."), "..") {
			t.Fatalf("ValidateDomain accepted %q", s)
		}
		if r := ResolveRegistrationDomain(s, "example.local"); len(r) <= MaxHostNameLength && ValidateDomain(r) != nil {
			t.Fatalf("resolved %q: %v", s, ValidateDomain(r))
		}
	})
}

func TestPublishedContainers(t *testing.T) {
	got := PublishedContainers(map[JobID]JobEndpoints{
		"a:1:h": {JobID: "a:1:h", ContainerID: "c1"},
		"b:1:h": {JobID: "b:1:h"},
	})
	if len(got) != 2 || got["a:1:h"] != "c1" || got["b:1:h"] != "" {
		t.Fatalf("PublishedContainers: %v", got)
	}
}
