package controller

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

// testCA makes a CA and signs certificates with it, written as PEM files in dir.
type testCA struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	file string
}

func newTestCA(t *testing.T) *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{t: t, dir: t.TempDir(), cert: cert, key: key, pool: x509.NewCertPool()}
	ca.pool.AddCert(cert)
	ca.file = ca.write("ca.pem", "CERTIFICATE", der)
	return ca
}

func (ca *testCA) write(name, typ string, der []byte) string {
	p := filepath.Join(ca.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return p
}

// issue signs a certificate for cn (organization org) and returns its cert and key files.
func (ca *testCA) issue(cn, org string, server bool) (certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ca.t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if server {
		tmpl.ExtKeyUsage, tmpl.IPAddresses = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		ca.t.Fatal(err)
	}
	return ca.write(cn+".pem", "CERTIFICATE", der), ca.write(cn+"-key.pem", "EC PRIVATE KEY", kder)
}

func (ca *testCA) client(certFile, keyFile string) *http.Client {
	tc := &tls.Config{RootCAs: ca.pool}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			ca.t.Fatal(err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 10 * time.Second}
}

func get(t *testing.T, c *http.Client, url string, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The API over TLS and mutual TLS: a client certificate signed by the client CA, or a
// bearer token, is let in; a certificate of another CA, or nothing, is not; plain HTTP
// gets nowhere.
func TestAPIOverTLSAndMutualTLS(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	srvCert, srvKey := ca.issue("master", "", true)
	adminCert, adminKey := ca.issue("ada", "admin", false)
	readerCert, readerKey := ca.issue("rita", "reader", false)
	strangerCert, strangerKey := other.issue("eve", "admin", false)
	addr := limitedMaster(t, func(c *MasterConfig) {
		c.TLSCertFile, c.TLSKeyFile, c.TLSClientCAFile = srvCert, srvKey, ca.file
		c.Tokens = map[string]model.Principal{"a-deployer-token-0123": {User: "dave", Role: model.RoleDeployer}}
	})
	url := "https://" + addr + "/jobs"
	if code := get(t, ca.client(adminCert, adminKey), url, ""); code != http.StatusOK {
		t.Errorf("admin's client certificate: %d, want 200", code)
	}
	if code := get(t, ca.client(readerCert, readerKey), url, ""); code != http.StatusOK {
		t.Errorf("reader's client certificate on a read: %d, want 200", code)
	}
	if code := get(t, ca.client("", ""), url, "a-deployer-token-0123"); code != http.StatusOK {
		t.Errorf("bearer token over TLS: %d, want 200", code)
	}
	if code := get(t, ca.client("", ""), url, ""); code != http.StatusUnauthorized {
		t.Errorf("no certificate, no token: %d, want 401", code)
	}
	if code := get(t, ca.client(strangerCert, strangerKey), url, ""); code != -1 && code != http.StatusUnauthorized {
		t.Errorf("a certificate of another CA: %d, want the handshake refused or 401", code)
	}
	if resp, err := http.Get("http://" + addr + "/jobs"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS port: %d, want 400", resp.StatusCode)
		}
	}
}

func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr                string
		tls, auth, insecure bool
		ok                  bool
	}{
		{"127.0.0.1:5801", false, false, false, true},
		{"localhost:5801", false, false, false, true},
		{"[::1]:5801", false, false, false, true},
		{":5801", false, false, false, false},
		{"0.0.0.0:5801", false, true, false, false}, // tokens in clear text
		{"0.0.0.0:5801", true, false, false, false}, // anyone, encrypted
		{"0.0.0.0:5801", true, true, false, true},
		{":5801", false, false, true, true},
	} {
		err := CheckListen(tc.addr, tc.tls, tc.auth, tc.insecure)
		if (err == nil) != tc.ok {
			t.Errorf("CheckListen(%+v) = %v", tc, err)
		}
		if err != nil && !strings.Contains(err.Error(), "--insecure") {
			t.Errorf("refusal %q does not name --insecure", err)
		}
	}
}
