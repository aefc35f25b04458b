package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// options is a parsed command line.
type options struct {
	dir    string
	caName string
	valid  time.Duration
	certs  []certSpec
	jwt    bool // write the JWT signing pair jwt.pem, jwt-key.pem
}

// certSpec is one --cert NAME=SAN,...: the files NAME.pem and NAME-key.pem, and the
// certificate's addresses and names besides 127.0.0.1 and localhost.
type certSpec struct {
	name string
	ips  []net.IP
	dns  []string
}

const maxValid = 10 * 365 * 24 * time.Hour

// parseArgs parses the whole command line before anything is written, so bad input
// writes nothing. usage receives the flag set's help.
func parseArgs(args []string, usage io.Writer) (options, error) {
	opts := options{}
	names := map[string]bool{}
	fs := flag.NewFlagSet("helios-cluster-certs", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&opts.dir, "dir", "", "directory of ca.pem, ca-key.pem and each NAME.pem, NAME-key.pem (made 0700)")
	fs.StringVar(&opts.caName, "ca-name", "helios-cluster CA", "common name of a new CA")
	fs.DurationVar(&opts.valid, "valid", 30*24*time.Hour, "validity of new certificates (at most 10 years)")
	fs.BoolVar(&opts.jwt, "jwt", false, "also write jwt-key.pem and jwt.pem: the ECDSA P-256 key pair etcd members sign authentication tokens with (kept when DIR already holds one)")
	fs.Func("cert", "NAME=SAN,... : a certificate for NAME (letters, digits, -) valid for these IPs and DNS names, 127.0.0.1 and localhost (repeatable)", func(s string) error {
		spec, err := parseCertSpec(s)
		if err != nil {
			return err
		}
		if names[spec.name] {
			return fmt.Errorf("certificate %q given twice", spec.name)
		}
		names[spec.name] = true
		opts.certs = append(opts.certs, spec)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return opts, err
	}
	switch {
	case fs.NArg() > 0:
		return opts, fmt.Errorf("unexpected arguments %q", fs.Args())
	case opts.dir == "":
		return opts, errors.New("--dir is required")
	case opts.valid <= 0 || opts.valid > maxValid:
		return opts, fmt.Errorf("--valid %s: want more than 0 and at most %s", opts.valid, maxValid)
	case strings.TrimSpace(opts.caName) == "" || len(opts.caName) > 64:
		return opts, errors.New("--ca-name: want 1 to 64 characters")
	}
	return opts, nil
}

// parseCertSpec parses NAME=SAN,SAN,...: NAME names files, so it is 1-63 lower-case
// letters, digits and '-', not starting with '-'; neither "ca" nor "jwt" (the CA's and
// the JWT pair's files) nor ending in "-key" (NAME-key.pem would be another
// certificate's key file); each SAN is an IP address or a DNS name. The SAN list may be empty (NAME= or NAME): 127.0.0.1 and localhost only.
func parseCertSpec(s string) (certSpec, error) {
	name, sans, _ := strings.Cut(s, "=")
	if !validName(name) {
		return certSpec{}, fmt.Errorf("--cert %q: name %q: want 1-63 of a-z, 0-9 and '-', not starting with '-'", s, name)
	}
	switch {
	case name == "ca":
		return certSpec{}, fmt.Errorf("--cert %q: the name ca is the CA's", s)
	case name == "jwt":
		return certSpec{}, fmt.Errorf("--cert %q: the name jwt is the JWT key pair's", s)
	case strings.HasSuffix(name, "-key"):
		return certSpec{}, fmt.Errorf("--cert %q: a name ending in -key would name another certificate's key file", s)
	}
	spec := certSpec{name: name}
	if sans == "" {
		return spec, nil
	}
	for _, san := range strings.Split(sans, ",") {
		if ip := net.ParseIP(san); ip != nil {
			spec.ips = append(spec.ips, ip)
			continue
		}
		if !validDNSName(san) {
			return certSpec{}, fmt.Errorf("--cert %q: %q is neither an IP address nor a DNS name", s, san)
		}
		spec.dns = append(spec.dns, strings.ToLower(san))
	}
	return spec, nil
}

func validName(name string) bool {
	if name == "" || len(name) > 63 || name[0] == '-' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// validDNSName: at most 253 characters, dot-separated labels of 1-63 letters, digits and
// '-', neither starting nor ending with '-', the last not all digits (so a mistyped IP
// address such as 10.0.0.256 is not taken for a name).
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return false
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
