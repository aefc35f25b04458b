package agent

import (
	"strings"
	"testing"
)

func TestParseKeyValues(t *testing.T) {
	tests := []struct {
		in      []string
		want    map[string]string
		wantErr bool
	}{
		{in: nil, want: map[string]string{}},
		{in: []string{"a=b", "c=d=e", "empty="}, want: map[string]string{"a": "b", "c": "d=e", "empty": ""}},
		{in: []string{"a=1", "a=2"}, want: map[string]string{"a": "2"}},
		{in: []string{"novalue"}, wantErr: true},
		{in: []string{"=v"}, wantErr: true},
		{in: []string{"a b=v"}, wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseKeyValues(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err = %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %v want %v", tc.in, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%q: got %v want %v", tc.in, got, tc.want)
			}
		}
	}
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in   string
		want PortRange
		err  bool
	}{
		{"20000:32768", PortRange{20000, 32768}, false},
		{"1:65536", PortRange{1, 65536}, false},
		{"5:5", PortRange{}, true},
		{"6:5", PortRange{}, true},
		{"0:5", PortRange{}, true},
		{"1:65537", PortRange{}, true},
		{"20000", PortRange{}, true},
		{"a:b", PortRange{}, true},
	}
	for _, tc := range tests {
		got, err := ParsePortRange(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParsePortRange(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestParseBind(t *testing.T) {
	tests := []struct {
		in   string
		want Mount
		err  bool
	}{
		{"/a:/b", Mount{Type: MountBind, Source: "/a", Target: "/b"}, false},
		{"/a:/b:ro", Mount{Type: MountBind, Source: "/a", Target: "/b", ReadOnly: true}, false},
		{"/a:/b:rw", Mount{Type: MountBind, Source: "/a", Target: "/b"}, false},
		{"/a:/b:xx", Mount{}, true},
		{"a:/b", Mount{}, true},
		{"/a:b", Mount{}, true},
		{"/a:/", Mount{}, true},
		{"/a", Mount{}, true},
		{"/a:/b:ro:x", Mount{}, true},
	}
	for _, tc := range tests {
		got, err := ParseBind(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseBind(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestParseAddHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"db:10.0.0.1", "db:10.0.0.1"},
		{"v6:::1", "v6:::1"},
		{"db:notanip", ""},
		{":10.0.0.1", ""},
		{"db", ""},
	}
	for _, tc := range tests {
		got, err := ParseAddHost(tc.in)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("ParseAddHost(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestParseHostPort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"syslog:514", "syslog:514"},
		{"127.0.0.1:5514", "127.0.0.1:5514"},
		{"[::1]:514", "[::1]:514"},
		{"syslog", ""},
		{"syslog:0", ""},
		{":514", ""},
		{"h:99999", ""},
	}
	for _, tc := range tests {
		got, err := ParseHostPort(tc.in)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("ParseHostPort(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func FuzzParseKeyValues(f *testing.F) {
	for _, s := range []string{"a=b", "=", "a==", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseKeyValues([]string{s})
		if err != nil {
			return
		}
		k, v, _ := strings.Cut(s, "=")
		if m[k] != v || len(m) != 1 {
			t.Fatalf("%q -> %v", s, m)
		}
	})
}

func FuzzParseBind(f *testing.F) {
	for _, s := range []string{"/a:/b", "/a:/b:ro", "::", "/:/:ro"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseBind(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(m.Source, "/") || !strings.HasPrefix(m.Target, "/") {
			t.Fatalf("%q -> %+v", s, m)
		}
	})
}

func FuzzParseAddHost(f *testing.F) {
	for _, s := range []string{"a:1.2.3.4", "a:::1", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseAddHost(s)
		if err != nil {
			return
		}
		again, err := ParseAddHost(out)
		if err != nil || again != out {
			t.Fatalf("%q -> %q -> %q, %v", s, out, again, err)
		}
	})
}

func FuzzParsePortRange(f *testing.F) {
	for _, s := range []string{"1:2", "20000:32768", "0:0", "-1:5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParsePortRange(s)
		if err == nil && (r.Start < 1 || r.End <= r.Start || r.End > 65536) {
			t.Fatalf("%q -> %+v", s, r)
		}
	})
}

func FuzzParseHostPort(f *testing.F) {
	for _, s := range []string{"h:1", "[::1]:514", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseHostPort(s)
		if err != nil {
			return
		}
		if again, err := ParseHostPort(out); err != nil || again != out {
			t.Fatalf("%q -> %q -> %q, %v", s, out, again, err)
		}
	})
}
