package main

import (
	"strings"
	"testing"
)

func TestParseInitialCluster(t *testing.T) {
	for _, tc := range []struct {
		in, self, err string
		n             int
	}{
		{in: "a=http://10.0.0.1:2380,b=http://10.0.0.2:2380", self: "a", n: 2},
		{in: "a=https://[::1]:2380", self: "a", n: 1},
		{in: "", self: "a", err: "want name=http://IP:port"},
		{in: "=http://10.0.0.1:2380", self: "a", err: "want name="},
		{in: "a=http://10.0.0.1:2380,a=http://10.0.0.2:2380", self: "a", err: "twice"},
		{in: "a=http://etcd-1:2380", self: "a", err: "not http(s)://IP:port"},
		{in: "a=http://10.0.0.1", self: "a", err: "not http(s)://IP:port"},
		{in: "a=tcp://10.0.0.1:2380", self: "a", err: "not http(s)://IP:port"},
		{in: "a=http://10.0.0.1:2380/x", self: "a", err: "not http(s)://IP:port"},
		{in: "a=http://10.0.0.1:2380", self: "b", err: `does not list this member "b"`},
		{in: "a=https://10.0.0.1:2380,b=http://10.0.0.2:2380", self: "a", err: "is http, the others https"},
		{in: "a=http://u:p@10.0.0.1:2380", self: "a", err: "not http(s)://IP:port"},
	} {
		m, err := parseInitialCluster(tc.in, tc.self)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("parseInitialCluster(%q, %q): %v", tc.in, tc.self, err)
		case tc.err == "" && len(m) != tc.n:
			t.Errorf("parseInitialCluster(%q, %q) = %v, want %d members", tc.in, tc.self, m, tc.n)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("parseInitialCluster(%q, %q) error %v, want one containing %q", tc.in, tc.self, err, tc.err)
		}
	}
}

func FuzzParseInitialCluster(f *testing.F) {
	f.Add("a=http://10.0.0.1:2380,b=http://10.0.0.2:2380", "a")
	f.Add("a=http://etcd:2380", "a")
	f.Fuzz(func(t *testing.T, in, self string) {
		m, err := parseInitialCluster(in, self)
		if err != nil {
			return
		}
		if _, ok := m[self]; !ok {
			t.Fatalf("parseInitialCluster(%q, %q) = %v without self", in, self, m)
		}
		if len(m) != strings.Count(in, ",")+1 {
			t.Fatalf("parseInitialCluster(%q, %q) = %v: not one member per entry", in, self, m)
		}
	})
}
