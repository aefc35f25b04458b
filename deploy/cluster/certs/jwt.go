package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// loadOrCreateJWT makes DIR's jwt-key.pem (an ECDSA P-256 private key, SEC 1 "EC PRIVATE
// KEY", 0600) and jwt.pem (its PKIX "PUBLIC KEY", 0644): the pair every etcd member signs
// and verifies authentication tokens with (ES256). Like the CA, a pair already in DIR is
// kept, checked, so running again for one more member leaves every member with the same
// pair: members with different pairs would refuse each other's tokens.
func loadOrCreateJWT(dir string) (created bool, err error) {
	keyFile, pubFile := filepath.Join(dir, "jwt-key.pem"), filepath.Join(dir, "jwt.pem")
	keyPEM, keyErr := os.ReadFile(keyFile)
	pubPEM, pubErr := os.ReadFile(pubFile)
	switch {
	case keyErr == nil && pubErr == nil:
		if err := checkJWTPair(keyPEM, pubPEM); err != nil {
			return false, fmt.Errorf("the pair in %s: %w", dir, err)
		}
		return false, nil
	case !errors.Is(keyErr, os.ErrNotExist) || !errors.Is(pubErr, os.ErrNotExist):
		return false, fmt.Errorf("%s needs both jwt-key.pem and jwt.pem, or neither (a new pair): %v, %v", dir, keyErr, pubErr)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return false, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return false, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return false, err
	}
	// The private key first: a public key on disk always has its private key.
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return false, err
	}
	if err := writeFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// checkJWTPair checks a kept pair is a P-256 private key and its public key.
func checkJWTPair(keyPEM, pubPEM []byte) error {
	kb, _ := pem.Decode(keyPEM)
	pb, _ := pem.Decode(pubPEM)
	if kb == nil || pb == nil {
		return errors.New("not PEM")
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return fmt.Errorf("jwt-key.pem: %w", err)
	}
	pub, err := x509.ParsePKIXPublicKey(pb.Bytes)
	if err != nil {
		return fmt.Errorf("jwt.pem: %w", err)
	}
	if key.Curve != elliptic.P256() {
		return fmt.Errorf("jwt-key.pem: curve %s, want P-256", key.Curve.Params().Name)
	}
	if !key.PublicKey.Equal(pub) {
		return errors.New("jwt.pem is not the public key of jwt-key.pem")
	}
	return nil
}
