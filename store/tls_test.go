package store_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
)

// writePair writes a certificate and key signed by parent (self-signed when parent is nil)
// and returns the certificate, its key and the file names.
func writePair(t *testing.T, dir, name string, isCA bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key, certFile, keyFile
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestConnectsOverMutualTLS runs an etcd that demands client certificates and checks that
// a store with the right files works and one without a client certificate cannot write.
func TestConnectsOverMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, caFile, _ := writePair(t, dir, "ca", true, nil, nil)
	_, _, serverCert, serverKey := writePair(t, dir, "server", false, ca, caKey)
	_, _, clientCert, clientKey := writePair(t, dir, "client", false, ca, caKey)

	ctx := context.Background()
	e, err := store.StartEmbedded(ctx, store.EmbedConfig{
		DataDir:       filepath.Join(dir, "etcd"),
		ClientURL:     fmt.Sprintf("https://127.0.0.1:%d", freePort(t)),
		PeerURL:       fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
		UnsafeNoFsync: true,
		ClientTLS:     store.TLSFiles{CAFile: caFile, CertFile: serverCert, KeyFile: serverKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)

	st, err := store.Open(ctx, store.ConnectConfig{
		Endpoints: e.Endpoints(), DialTimeout: 2 * time.Second,
		TLS: store.TLSFiles{CAFile: caFile, CertFile: clientCert, KeyFile: clientKey},
	}, store.Config{RequestTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.RegisterHost(ctx, "tls-host", "id1"); err != nil {
		t.Fatalf("register over mutual TLS: %v", err)
	}
	if _, err := st.HostID(ctx, "tls-host"); err != nil {
		t.Fatalf("read back over mutual TLS: %v", err)
	}

	// Trusting the CA but presenting no client certificate: the server refuses.
	anonStore, err := store.Open(ctx, store.ConnectConfig{
		Endpoints: e.Endpoints(), DialTimeout: time.Second, TLS: store.TLSFiles{CAFile: caFile},
	}, store.Config{RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer anonStore.Close()
	if err := anonStore.RegisterHost(ctx, "intruder", "id2"); err == nil {
		t.Fatal("a client without a certificate could write")
	}
	if _, err := st.HostID(ctx, "intruder"); !errors.Is(err, store.ErrHostNotFound) {
		t.Fatalf("intruder host: %v, want ErrHostNotFound", err)
	}
}

func TestConnectRefusesHalfAClientCertificate(t *testing.T) {
	_, err := store.Open(context.Background(), store.ConnectConfig{
		Endpoints: []string{"https://127.0.0.1:1"}, TLS: store.TLSFiles{CertFile: "/x/client.pem"},
	}, store.Config{})
	if err == nil || !strings.Contains(err.Error(), "needs its key") {
		t.Fatalf("got %v, want an error saying the certificate needs its key", err)
	}
	_, err = store.Open(context.Background(), store.ConnectConfig{
		Endpoints: []string{"https://127.0.0.1:1"}, TLS: store.TLSFiles{CAFile: "/nonexistent/ca.pem"},
	}, store.Config{})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/ca.pem") {
		t.Fatalf("got %v, want an error naming the missing CA file", err)
	}
}

// TestMembersTalkOverPeerTLS starts three members whose peers authenticate each other
// with certificates of one CA and whose clients use TLS: a write through one member is
// read back through each of the others, so the raft traffic went over peer TLS.
func TestMembersTalkOverPeerTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, caFile, _ := writePair(t, dir, "ca", true, nil, nil)
	cfgs := make([]store.EmbedConfig, 3)
	var peers []string
	for i := range cfgs {
		name := fmt.Sprintf("p%d", i)
		_, _, cert, key := writePair(t, dir, name, false, ca, caKey)
		files := store.TLSFiles{CAFile: caFile, CertFile: cert, KeyFile: key}
		cfgs[i] = store.EmbedConfig{
			Name: name, DataDir: filepath.Join(dir, name), UnsafeNoFsync: true,
			ClientURL: fmt.Sprintf("https://127.0.0.1:%d", freePort(t)),
			PeerURL:   fmt.Sprintf("https://127.0.0.1:%d", freePort(t)),
			ClientTLS: store.TLSFiles{CertFile: cert, KeyFile: key}, PeerTLS: files,
		}
		peers = append(peers, name+"="+cfgs[i].PeerURL)
	}
	members := make([]*store.Embedded, len(cfgs))
	errs := make([]error, len(cfgs))
	done := make(chan int)
	for i := range cfgs {
		cfgs[i].InitialCluster = strings.Join(peers, ",")
		go func() {
			members[i], errs[i] = store.StartEmbedded(context.Background(), cfgs[i])
			done <- i
		}()
	}
	for range cfgs {
		<-done
	}
	for i, m := range members {
		if m != nil {
			t.Cleanup(m.Close)
		}
		if errs[i] != nil {
			t.Fatalf("member %d: %v", i, errs[i])
		}
	}

	ctx := context.Background()
	open := func(m *store.Embedded) *store.Store {
		st, err := store.Open(ctx, store.ConnectConfig{
			Endpoints: m.Endpoints(), DialTimeout: 2 * time.Second, TLS: store.TLSFiles{CAFile: caFile},
		}, store.Config{RequestTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	if err := open(members[0]).RegisterHost(ctx, "peer-tls-host", "id1"); err != nil {
		t.Fatalf("register through member 0: %v", err)
	}
	for _, m := range members[1:] {
		if id, err := open(m).HostID(ctx, "peer-tls-host"); err != nil || id != "id1" {
			t.Fatalf("host id through %v: %q, %v; want id1", m.Endpoints(), id, err)
		}
	}
}

func TestPeerURLAndPeerTLSMustAgree(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		peer string
		tls  store.TLSFiles
		want string
	}{
		{"https://127.0.0.1:1", store.TLSFiles{}, "needs this member's certificate and key and the peers' CA"},
		{"https://127.0.0.1:1", store.TLSFiles{CertFile: "c.pem", KeyFile: "k.pem"}, "the peers' CA"},
		{"http://127.0.0.1:1", store.TLSFiles{CAFile: "ca.pem"}, "is not https"},
	} {
		_, err := store.StartEmbedded(context.Background(), store.EmbedConfig{
			DataDir: filepath.Join(dir, "etcd"), PeerURL: tc.peer, PeerTLS: tc.tls,
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("peer %s with %+v: %v, want an error containing %q", tc.peer, tc.tls, err, tc.want)
		}
	}
}
