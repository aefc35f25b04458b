package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// write makes opts.dir (0700), with opts.jwt loads or creates the JWT key pair, loads its
// CA or creates one, and writes each certificate and key. Certificates and the JWT public
// key are written 0644 (they are public), private keys 0600.
func write(opts options, now time.Time, out io.Writer) error {
	if err := os.MkdirAll(opts.dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(opts.dir, 0o700); err != nil {
		return err
	}
	// The JWT pair first: half a pair in DIR is refused before a CA is made.
	if opts.jwt {
		created, err := loadOrCreateJWT(opts.dir)
		if err != nil {
			return fmt.Errorf("JWT key pair: %w", err)
		}
		if created {
			fmt.Fprintf(out, "new JWT key pair %s\n", filepath.Join(opts.dir, "jwt-key.pem"))
		}
	}
	ca, caKey, created, err := loadOrCreateCA(opts, now)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(out, "new CA %s\n", filepath.Join(opts.dir, "ca.pem"))
	}
	for _, spec := range opts.certs {
		if err := writeCert(opts, spec, ca, caKey, now); err != nil {
			return fmt.Errorf("certificate %s: %w", spec.name, err)
		}
		fmt.Fprintf(out, "certificate %s\n", filepath.Join(opts.dir, spec.name+".pem"))
	}
	return nil
}

// loadOrCreateCA reuses DIR's CA when both its files are there, so running again (one more
// member) keeps every certificate issued before valid.
func loadOrCreateCA(opts options, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, bool, error) {
	certFile, keyFile := filepath.Join(opts.dir, "ca.pem"), filepath.Join(opts.dir, "ca-key.pem")
	certPEM, certErr := os.ReadFile(certFile)
	keyPEM, keyErr := os.ReadFile(keyFile)
	switch {
	case certErr == nil && keyErr == nil:
		ca, key, err := parsePair(certPEM, keyPEM)
		if err != nil {
			return nil, nil, false, fmt.Errorf("the CA in %s: %w", opts.dir, err)
		}
		return ca, key, false, nil
	case !errors.Is(certErr, os.ErrNotExist) || !errors.Is(keyErr, os.ErrNotExist):
		return nil, nil, false, fmt.Errorf("%s needs both ca.pem and ca-key.pem, or neither (a new CA): %v, %v", opts.dir, certErr, keyErr)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, false, err
	}
	tmpl, err := template(opts.caName, now, opts.valid)
	if err != nil {
		return nil, nil, false, err
	}
	tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.MaxPathLenZero = true, true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	ca, err := sign(tmpl, tmpl, key, key, certFile, keyFile)
	if err != nil {
		return nil, nil, false, err
	}
	return ca, key, true, nil
}

func writeCert(opts options, spec certSpec, ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl, err := template(spec.name, now, opts.valid)
	if err != nil {
		return err
	}
	tmpl.IPAddresses = append([]net.IP{net.IPv4(127, 0, 0, 1)}, spec.ips...)
	tmpl.DNSNames = append([]string{"localhost"}, spec.dns...)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter // a certificate outliving its CA would fail verification then
	}
	_, err = sign(tmpl, ca, key, caKey,
		filepath.Join(opts.dir, spec.name+".pem"), filepath.Join(opts.dir, spec.name+"-key.pem"))
	return err
}

func template(cn string, now time.Time, valid time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"helios-cluster"}},
		NotBefore:    now.Add(-5 * time.Minute), // clocks of containers and host may differ a little
		NotAfter:     now.Add(valid),
	}, nil
}

// sign creates the certificate of key, signed by signer as parent, and writes the key,
// then the certificate: a certificate on disk always has its key.
func sign(tmpl, parent *x509.Certificate, key, signer *ecdsa.PrivateKey, certFile, keyFile string) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	return cert, nil
}

// writeFile replaces path with data through a temporary file (created 0600, so a key is
// never readable by others, even for a moment) renamed over it.
func writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// parsePair parses a PEM certificate and its EC key and checks they belong together.
func parsePair(certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, errors.New("the key is not the certificate's")
	}
	if !cert.IsCA {
		return nil, nil, errors.New("the certificate is not a CA's")
	}
	return cert, key, nil
}
