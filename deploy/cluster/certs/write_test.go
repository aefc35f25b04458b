package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
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

// --jwt writes the pair etcd's --auth-token jwt takes: jwt-key.pem a P-256 "EC PRIVATE
// KEY" (0600), jwt.pem its PKIX "PUBLIC KEY", that verifies what the private key signs.
// A second run keeps the pair, so every member gets the same; half a pair is refused.
func TestWriteMakesTheJWTKeyPair(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	opts, err := parseArgs([]string{"--dir", dir, "--jwt", "--cert", "etcd-1=10.213.77.11"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(opts, time.Now(), io.Discard); err != nil {
		t.Fatal(err)
	}
	keyPEM, pubPEM := read(t, filepath.Join(dir, "jwt-key.pem")), read(t, filepath.Join(dir, "jwt.pem"))
	kb, rest := pem.Decode(keyPEM)
	if kb == nil || kb.Type != "EC PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("jwt-key.pem is not one EC PRIVATE KEY block: %q", keyPEM)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		t.Fatalf("jwt-key.pem: %v", err)
	}
	if key.Curve != elliptic.P256() {
		t.Errorf("jwt-key.pem: curve %s, want P-256 (ES256)", key.Curve.Params().Name)
	}
	pb, _ := pem.Decode(pubPEM)
	if pb == nil || pb.Type != "PUBLIC KEY" {
		t.Fatalf("jwt.pem is not a PUBLIC KEY block: %q", pubPEM)
	}
	pub, err := x509.ParsePKIXPublicKey(pb.Bytes)
	if err != nil {
		t.Fatalf("jwt.pem: %v", err)
	}
	ecPub, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		t.Fatalf("jwt.pem holds a %T, want an ECDSA public key", pub)
	}
	digest := sha256.Sum256([]byte("token"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil || !ecdsa.VerifyASN1(ecPub, digest[:], sig) {
		t.Fatalf("jwt.pem does not verify what jwt-key.pem signs (%v)", err)
	}
	for f, mode := range map[string]os.FileMode{"jwt-key.pem": 0o600, "jwt.pem": 0o644} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, mode %v; want %v", f, err, fi.Mode().Perm(), mode)
		}
	}

	opts.certs = []certSpec{{name: "etcd-2"}}
	if err := write(opts, time.Now(), io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !bytes.Equal(read(t, filepath.Join(dir, "jwt-key.pem")), keyPEM) || !bytes.Equal(read(t, filepath.Join(dir, "jwt.pem")), pubPEM) {
		t.Error("a second run replaced the JWT key pair: members would refuse each other's tokens")
	}

	if err := os.Remove(filepath.Join(dir, "jwt.pem")); err != nil {
		t.Fatal(err)
	}
	opts.certs = []certSpec{{name: "etcd-3"}}
	err = write(opts, time.Now(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "needs both jwt-key.pem and jwt.pem") {
		t.Fatalf("write with jwt-key.pem alone: %v, want an error naming both files", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "etcd-3.pem")); err == nil {
		t.Error("a certificate was written beside half a JWT pair")
	}
	fresh := t.TempDir()
	writeFileT(t, filepath.Join(fresh, "jwt-key.pem"), keyPEM)
	err = write(options{dir: fresh, caName: "x", valid: time.Hour, jwt: true}, time.Now(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "needs both jwt-key.pem and jwt.pem") {
		t.Fatalf("write into a directory with jwt-key.pem alone: %v, want an error naming both files", err)
	}
	if entries, _ := os.ReadDir(fresh); len(entries) != 1 {
		t.Errorf("after the refusal %s holds %d files, want jwt-key.pem alone (no CA made)", fresh, len(entries))
	}
}

func writeFileT(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
