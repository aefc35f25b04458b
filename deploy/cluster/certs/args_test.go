package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseCertSpec(t *testing.T) {
	for _, tc := range []struct {
		in, err string
		ips     int
		dns     []string
	}{
		{in: "etcd-1=10.213.77.11", ips: 1},
		{in: "master-1=10.213.77.21,Master-1.Example.com,::1", ips: 2, dns: []string{"master-1.example.com"}},
		{in: "solo", ips: 0},
		{in: "solo=", ips: 0},
		{in: "=10.0.0.1", err: `name "": want 1-63`},
		{in: "Etcd=10.0.0.1", err: `name "Etcd"`},
		{in: "-x=10.0.0.1", err: `name "-x"`},
		{in: "../x=10.0.0.1", err: `name "../x"`},
		{in: strings.Repeat("a", 64), err: "want 1-63"},
		{in: "ca=10.0.0.1", err: "the name ca is the CA's"},
		{in: "jwt", err: "the name jwt is the JWT key pair's"},
		{in: "ca-key", err: "ending in -key"},
		{in: "etcd-1-key=10.0.0.1", err: "ending in -key"},
		{in: "keystore=10.0.0.1", ips: 1},
		{in: "m=10.0.0.1,,10.0.0.2", err: `"" is neither an IP address nor a DNS name`},
		{in: "m=10.0.0.256", err: `"10.0.0.256" is neither`},
		{in: "m=-bad.example", err: "is neither"},
		{in: "m=a_b", err: "is neither"},
		{in: "m=" + strings.Repeat("a", 64), err: "is neither"},
	} {
		spec, err := parseCertSpec(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseCertSpec(%q): error %v, want one containing %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("parseCertSpec(%q): %v", tc.in, err)
		case len(spec.ips) != tc.ips || strings.Join(spec.dns, ",") != strings.Join(tc.dns, ","):
			t.Errorf("parseCertSpec(%q) = %v %v, want %d IPs and names %v", tc.in, spec.ips, spec.dns, tc.ips, tc.dns)
		}
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args, err string
		certs     int
		valid     time.Duration
		jwt       bool
	}{
		{args: "--dir d --cert etcd-1=10.0.0.1 --cert master-1=10.0.0.2", certs: 2, valid: 30 * 24 * time.Hour},
		{args: "--dir d --valid 1h", valid: time.Hour},
		{args: "--dir d --jwt --cert etcd-1=10.0.0.1", certs: 1, valid: 30 * 24 * time.Hour, jwt: true},
		{args: "--dir d --jwt=nope", err: "invalid boolean value"},
		{args: "--cert a=10.0.0.1", err: "--dir is required"},
		{args: "--dir d --cert a=10.0.0.1 --cert a=10.0.0.2", err: `certificate "a" given twice`},
		{args: "--dir d --cert A", err: `name "A"`},
		{args: "--dir d --valid 0s", err: "--valid 0s: want more than 0"},
		{args: "--dir d --valid 100000h", err: "at most"},
		{args: "--dir d --ca-name", err: "flag needs an argument"},
		{args: "--dir d extra", err: `unexpected arguments ["extra"]`},
	} {
		opts, err := parseArgs(strings.Fields(tc.args), io.Discard)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseArgs(%s): error %v, want one containing %q", tc.args, err, tc.err)
			}
		case err != nil:
			t.Errorf("parseArgs(%s): %v", tc.args, err)
		case len(opts.certs) != tc.certs || opts.valid != tc.valid || opts.dir != "d" || opts.jwt != tc.jwt:
			t.Errorf("parseArgs(%s) = %+v, want %d certificates valid %s in d, JWT pair %v", tc.args, opts, tc.certs, tc.valid, tc.jwt)
		}
	}
}

// An accepted --cert names a file safely and accounts for every SAN it was given.
func FuzzParseCertSpec(f *testing.F) {
	f.Add("etcd-1=10.213.77.11,localhost")
	f.Add("m=::1,a.example.com")
	f.Add("../../etc/passwd=x")
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := parseCertSpec(s)
		if err != nil {
			return
		}
		if !validName(spec.name) || strings.ContainsAny(spec.name, "/.") || spec.name == "ca" || spec.name == "jwt" || strings.HasSuffix(spec.name, "-key") {
			t.Fatalf("parseCertSpec(%q): unsafe name %q", s, spec.name)
		}
		_, sans, _ := strings.Cut(s, "=")
		n := 0
		if sans != "" {
			n = strings.Count(sans, ",") + 1
		}
		if len(spec.ips)+len(spec.dns) != n {
			t.Fatalf("parseCertSpec(%q) = %v %v: not one SAN per entry", s, spec.ips, spec.dns)
		}
	})
}
