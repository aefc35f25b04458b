package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The certificates verify against the CA for each of their SANs and for 127.0.0.1 and
// localhost, as servers and as clients; keys are 0600 in a 0700 directory; a second run
// keeps the CA, so certificates issued before stay valid.
func TestWriteMakesVerifiableCertificates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	opts, err := parseArgs([]string{"--dir", dir, "--cert", "etcd-1=10.213.77.11", "--cert", "master-1=10.213.77.21,master.example.com"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := write(opts, now, io.Discard); err != nil {
		t.Fatal(err)
	}
	caPEM := read(t, filepath.Join(dir, "ca.pem"))
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	for name, hosts := range map[string][]string{
		"etcd-1":   {"10.213.77.11", "127.0.0.1", "localhost"},
		"master-1": {"10.213.77.21", "master.example.com", "127.0.0.1", "localhost"},
	} {
		block, _ := pem.Decode(read(t, filepath.Join(dir, name+".pem")))
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("%s.pem: %v", name, err)
		}
		for _, h := range hosts {
			if _, err := cert.Verify(x509.VerifyOptions{DNSName: h, Roots: pool, CurrentTime: now,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("%s for %s: %v", name, h, err)
			}
		}
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: "10.9.9.9", Roots: pool, CurrentTime: now}); err == nil {
			t.Errorf("%s verifies for an address it was not given", name)
		}
	}
	for _, f := range []string{"ca-key.pem", "etcd-1-key.pem", "master-1-key.pem"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, fi.Mode().Perm())
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", fi.Mode().Perm())
	}

	opts.certs = opts.certs[:1]
	if err := write(opts, now, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !bytes.Equal(read(t, filepath.Join(dir, "ca.pem")), caPEM) {
		t.Error("a second run replaced the CA")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 6 {
		t.Errorf("dir holds %d files, want 6 (no temporary file left)", len(entries))
	}
}

func TestWriteRefusesHalfACA(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := write(options{dir: dir, caName: "x", valid: time.Hour, certs: []certSpec{{name: "m"}}}, time.Now(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "needs both ca.pem and ca-key.pem") {
		t.Fatalf("write with ca.pem alone: %v, want an error naming both files", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.pem")); err == nil {
		t.Error("a certificate was written without a CA")
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
