package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
)

func intp(n int) *int { return &n }

func TestParsePort(t *testing.T) {
	tests := []struct {
		in      string
		name    string
		want    model.PortMapping
		wantErr string
	}{
		{in: "http=8080", name: "http", want: model.PortMapping{InternalPort: 8080, Protocol: "tcp"}},
		{in: "http=8080:80", name: "http", want: model.PortMapping{InternalPort: 8080, ExternalPort: intp(80), Protocol: "tcp"}},
		{in: "dns=53:53/udp", name: "dns", want: model.PortMapping{InternalPort: 53, ExternalPort: intp(53), Protocol: "udp"}},
		{in: "quic=80/udp", name: "quic", want: model.PortMapping{InternalPort: 80, Protocol: "udp"}},
		{in: "admin=127.0.0.1:8081:8081", name: "admin", want: model.PortMapping{IP: "127.0.0.1", InternalPort: 8081, ExternalPort: intp(8081), Protocol: "tcp"}},
		{in: "admin=127.0.0.1:8081", name: "admin", want: model.PortMapping{IP: "127.0.0.1", InternalPort: 8081, Protocol: "tcp"}},
		{in: "v6=[::1]:80:8080/tcp", name: "v6", want: model.PortMapping{IP: "::1", InternalPort: 80, ExternalPort: intp(8080), Protocol: "tcp"}},
		{in: "http=0:0", name: "http", want: model.PortMapping{InternalPort: 0, ExternalPort: intp(0), Protocol: "tcp"}},
		{in: "http", wantErr: "missing '='"},
		{in: "=80", wantErr: "empty port name"},
		{in: "http=80/sctp", wantErr: `protocol "sctp"`},
		{in: "http=abc", wantErr: `"abc" is not a number`},
		{in: "http=70000", wantErr: "out of range"},
		{in: "http=80:-1", wantErr: "out of range"},
		{in: "http=1.2.3:80:90", wantErr: "not an IP address"},
		{in: "http=1:2:3:4", wantErr: "too many"},
		{in: "http=", wantErr: "not a number"},
		{in: "http=[::1", wantErr: "IPv6"},
	}
	for _, tt := range tests {
		name, pm, err := parsePort(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.in) {
				t.Errorf("parsePort(%q) error %v, want one naming the argument and containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || name != tt.name || !reflect.DeepEqual(pm, tt.want) {
			t.Errorf("parsePort(%q) = %q %+v %v, want %q %+v", tt.in, name, pm, err, tt.name, tt.want)
		}
	}
}

func TestParsePortsRejectsDuplicateNames(t *testing.T) {
	if _, err := parsePorts([]string{"http=80", "http=81"}); err == nil || !strings.Contains(err.Error(), `"http" given twice`) {
		t.Fatalf("error %v", err)
	}
}

func TestBuildRegistrations(t *testing.T) {
	one := map[string]model.PortMapping{"http": {InternalPort: 80}}
	two := map[string]model.PortMapping{"http": {InternalPort: 80}, "admin": {InternalPort: 81}}
	tests := []struct {
		args    []string
		ports   map[string]model.PortMapping
		want    map[string]model.ServicePorts
		wantErr string
	}{
		{args: []string{"website"}, ports: one, want: map[string]model.ServicePorts{"website/tcp": {Ports: map[string]model.ServicePortParameters{"http": {}}}}},
		{args: []string{"website/http=admin"}, ports: two, want: map[string]model.ServicePorts{"website/http": {Ports: map[string]model.ServicePortParameters{"admin": {}}}}},
		{args: []string{"a=http", "a=admin"}, ports: two, want: map[string]model.ServicePorts{"a/tcp": {Ports: map[string]model.ServicePortParameters{"http": {}, "admin": {}}}}},
		{args: []string{"website"}, ports: two, wantErr: "name the port"},
		{args: []string{"website"}, ports: nil, wantErr: "0 ports"},
		{args: []string{"website=nope"}, ports: one, wantErr: `no port named "nope"`},
		{args: []string{"/tcp=http"}, ports: one, wantErr: "empty service name"},
		{args: []string{"web="}, ports: one, wantErr: "empty port name"},
		{args: []string{"web/=http"}, ports: one, wantErr: "protocol"},
		{args: []string{"we b"}, ports: one, wantErr: "white space"},
	}
	for _, tt := range tests {
		got, err := buildRegistrations(tt.args, tt.ports)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%v = %+v %v, want %+v", tt.args, got, err, tt.want)
		}
	}
}

func TestParseVolume(t *testing.T) {
	tests := []struct {
		in, key, val, wantErr string
	}{
		{in: "/foo", key: "/foo"},
		{in: "/src:/dst", key: "/dst", val: "/src"},
		{in: "my-vol:/dst", key: "/dst", val: "my-vol"},
		{in: "/src:/dst:ro", key: "/dst:ro", val: "/src"},
		{in: "/dst:rw", key: "/dst:rw"},
		{in: "/source/path/in/host.yaml:/destination/path/in/container.yaml:ro", key: "/destination/path/in/container.yaml:ro", val: "/source/path/in/host.yaml"},
		{in: "dst", wantErr: "not absolute"},
		{in: "/a:dst", wantErr: "not absolute"},
		{in: "/a:/b:/c", wantErr: "too many"},
		{in: ":/b", wantErr: "empty source"},
		{in: "", wantErr: "not absolute"},
	}
	for _, tt := range tests {
		k, v, err := parseVolume(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "volume") {
				t.Errorf("parseVolume(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || k != tt.key || v != tt.val {
			t.Errorf("parseVolume(%q) = %q %q %v, want %q %q", tt.in, k, v, err, tt.key, tt.val)
		}
	}
}

func TestParseKV(t *testing.T) {
	tests := []struct {
		in, k, v string
		ok       bool
	}{
		{"FOO=bar", "FOO", "bar", true},
		{"K=a,b", "K", "a,b", true},
		{"K=a=b", "K", "a=b", true},
		{"K=", "K", "", true},
		{"=v", "", "", false},
		{"novalue", "", "", false},
		{" =v", "", "", false},
	}
	for _, tt := range tests {
		k, v, err := parseKV("--env", tt.in)
		if (err == nil) != tt.ok || (tt.ok && (k != tt.k || v != tt.v)) {
			t.Errorf("parseKV(%q) = %q %q %v", tt.in, k, v, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "--env") || !strings.Contains(err.Error(), tt.in)) {
			t.Errorf("parseKV(%q) error %q does not name the flag and argument", tt.in, err)
		}
	}
}

func TestParseHTTPCheck(t *testing.T) {
	hc, err := parseHTTPCheck("http:/healthcheck")
	if err != nil || !reflect.DeepEqual(*hc, model.HealthCheck{Type: "http", Port: "http", Path: "/healthcheck"}) {
		t.Fatalf("got %+v %v", hc, err)
	}
	for _, bad := range []string{"http", ":/x", "http:x", "http:"} {
		if _, err := parseHTTPCheck(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("parseHTTPCheck(%q) error %v", bad, err)
		}
	}
}

func TestParseRolloutOptions(t *testing.T) {
	ro, err := parseRolloutOptions([]string{"timeout=1000", "parallelism=2", "overlap=true", "migrate=false", "token=abc", "ignoreFailures=true"})
	if err != nil {
		t.Fatal(err)
	}
	if *ro.Timeout != 1000 || *ro.Parallelism != 2 || !*ro.Overlap || *ro.Migrate || *ro.Token != "abc" || !*ro.IgnoreFailures {
		t.Fatalf("got %+v", ro)
	}
	for _, bad := range []string{"timeout=x", "parallelism=0", "overlap=maybe", "color=red", "timeout"} {
		if _, err := parseRolloutOptions([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: error %v", bad, err)
		}
	}
}

func TestParseSelectors(t *testing.T) {
	sels, err := parseSelectors([]string{"a=b", "c!=d", "e in (f, g)", "h notin (i)"})
	if err != nil || len(sels) != 4 || sels[2].Operator != model.OpIn || !reflect.DeepEqual(sels[2].Operand, []string{"f", "g"}) {
		t.Fatalf("got %+v %v", sels, err)
	}
	if _, err := parseSelectors([]string{"a=b", "bogus"}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("error %v", err)
	}
}

func FuzzParsePort(f *testing.F) {
	for _, s := range []string{"http=8080", "a=1.2.3.4:80:90/udp", "v6=[::1]:1:2", "x=", "=", "a=1:2:3:4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, pm, err := parsePort(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid port mapping") {
				t.Fatalf("error %q does not say what is wrong", err)
			}
			return
		}
		if name == "" || pm.InternalPort < 0 || pm.InternalPort > 65535 || (pm.Protocol != "tcp" && pm.Protocol != "udp") {
			t.Fatalf("parsePort(%q) accepted %q %+v", s, name, pm)
		}
		if pm.ExternalPort != nil && (*pm.ExternalPort < 0 || *pm.ExternalPort > 65535) {
			t.Fatalf("parsePort(%q) external %d", s, *pm.ExternalPort)
		}
	})
}

func FuzzParseRegistration(f *testing.F) {
	for _, s := range []string{"web", "web/http=admin", "=", "/x", "a/b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRegistration(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid registration") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if r.Service == "" || r.Proto == "" || strings.Contains(r.Key()[len(r.Service)+1:], "/") {
			t.Fatalf("parseRegistration(%q) = %+v", s, r)
		}
	})
}

func FuzzParseVolume(f *testing.F) {
	for _, s := range []string{"/a", "/a:/b", "v:/b:ro", ":/b", "/a:/b:/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, _, err := parseVolume(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid volume") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if !strings.HasPrefix(k, "/") {
			t.Fatalf("parseVolume(%q) key %q not absolute", s, k)
		}
	})
}

func FuzzParseKV(f *testing.F) {
	for _, s := range []string{"A=b", "=", "A=b=c", "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, v, err := parseKV("--env", s)
		if err != nil {
			return
		}
		if k+"="+v != s || k == "" {
			t.Fatalf("parseKV(%q) = %q %q", s, k, v)
		}
	})
}

func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{"a=b", "a!=b", "a in (b, c)", "a notin (b)", "a in ()", "!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sels, err := parseSelectors([]string{s})
		if err != nil {
			return
		}
		again, err := parseSelectors([]string{sels[0].String()})
		if err != nil || !reflect.DeepEqual(again, sels) {
			t.Fatalf("%q parsed as %+v, which does not round-trip through %q: %+v %v", s, sels[0], sels[0].String(), again, err)
		}
	})
}

func FuzzParseHTTPCheck(f *testing.F) {
	f.Add("http:/health")
	f.Fuzz(func(t *testing.T, s string) {
		hc, err := parseHTTPCheck(s)
		if err == nil && (hc.Port == "" || !strings.HasPrefix(hc.Path, "/")) {
			t.Fatalf("parseHTTPCheck(%q) = %+v", s, hc)
		}
	})
}
