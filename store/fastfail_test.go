package store

import (
	"errors"
	"testing"
)

func TestDialAddr(t *testing.T) {
	for _, tc := range []struct {
		ep               string
		network, address string
		ok               bool
	}{
		{"127.0.0.1:2379", "tcp", "127.0.0.1:2379", true},
		{"http://127.0.0.1:2379", "tcp", "127.0.0.1:2379", true},
		{"https://etcd-1.example:2379", "tcp", "etcd-1.example:2379", true},
		{"http://[::1]:2379", "tcp", "[::1]:2379", true},
		{"unix:///run/etcd.sock", "unix", "/run/etcd.sock", true},
		{"unixs://localhost:1234", "unix", "localhost:1234", true},
		{"", "", "", false},
		{"http://", "", "", false},
		{"dns:///etcd:2379", "", "", false}, // a scheme the probe cannot dial: left to the client
		{"http://%zz", "", "", false},
	} {
		network, address, ok := dialAddr(tc.ep)
		if network != tc.network || address != tc.address || ok != tc.ok {
			t.Errorf("dialAddr(%q) = %q, %q, %v; want %q, %q, %v", tc.ep, network, address, ok, tc.network, tc.address, tc.ok)
		}
	}
}

func FuzzDialAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1:2379", "http://a:1", "unix:///x", "https://[::1]:2", "", "://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ep string) {
		network, address, ok := dialAddr(ep)
		if ok != (address != "") {
			t.Fatalf("dialAddr(%q) = %q, %q, %v: ok must mean an address", ep, network, address, ok)
		}
		if ok && network != "tcp" && network != "unix" {
			t.Fatalf("dialAddr(%q): network %q", ep, network)
		}
	})
}

func TestProbeOfRefusingEndpointsWrapsErrUnavailable(t *testing.T) {
	// Port 1 on loopback refuses (nothing listens there as a non-root test).
	err := probeEndpoints(t.Context(), []string{"http://127.0.0.1:1", "127.0.0.1:1"})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("probe of refusing endpoints: %v, want ErrUnavailable", err)
	}
	if err := probeEndpoints(t.Context(), []string{"http://127.0.0.1:1", "dns:///x"}); err != nil {
		t.Fatalf("probe with an endpoint it cannot dial: %v, want nil (left to the client)", err)
	}
}
