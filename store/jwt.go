package store

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// JWTKeys name the PEM files of the key pair an embedded member signs and verifies its
// authentication tokens with (etcd's --auth-token jwt). Every member of a cluster must be
// given the same pair: then any member verifies a token another issued, so a client that
// fails over keeps its session. etcd's default "simple" tokens live in each member's
// memory, with an idle timeout counted per member: a member that restarted since, or that
// the client has not used for 5 minutes, refuses the token ("invalid auth token") and
// the client must log in again.
type JWTKeys struct {
	// PrivateKey is the signing key: an EC (SEC 1 "EC PRIVATE KEY" or PKCS #8), RSA or
	// Ed25519 (PKCS #8) private key. The sign method follows from it: ES256/384/512 by
	// the curve, RS256, EdDSA.
	PrivateKey string
	// PublicKey is its public key, PEM "PUBLIC KEY" (PKIX).
	PublicKey string
	// TTL is how long a token is valid (0 = etcd's default, 5 minutes). A client logged
	// in with a password fetches a new token when its own has expired.
	TTL time.Duration
}

// Enabled tells whether any key file was given.
func (k JWTKeys) Enabled() bool { return k.PrivateKey != "" || k.PublicKey != "" }

// authToken is etcd's --auth-token for these keys: "simple" (etcd's default) when none
// was given, else jwt with the sign method of the private key. It reads and checks both
// files first, so a half-given pair, a missing or unparsable file or keys of two
// different pairs are refused naming the file, before etcd starts (etcd itself reports
// all of these as "invalid auth options").
func (k JWTKeys) authToken() (string, error) {
	if !k.Enabled() {
		return "simple", nil
	}
	switch {
	case k.PrivateKey == "":
		return "", fmt.Errorf("etcd JWT: public key %s given without its private key", k.PublicKey)
	case k.PublicKey == "":
		return "", fmt.Errorf("etcd JWT: private key %s given without its public key", k.PrivateKey)
	case k.TTL < 0:
		return "", fmt.Errorf("etcd JWT: token TTL %s is negative", k.TTL)
	}
	for _, f := range []string{k.PrivateKey, k.PublicKey} {
		// etcd splits its --auth-token option at ',' and '='.
		if strings.ContainsAny(f, ",=") {
			return "", fmt.Errorf("etcd JWT: key file %q: etcd cannot take a path with ',' or '='", f)
		}
	}
	priv, err := readPrivateKey(k.PrivateKey)
	if err != nil {
		return "", fmt.Errorf("etcd JWT: private key %s: %w", k.PrivateKey, err)
	}
	pub, err := readPublicKey(k.PublicKey)
	if err != nil {
		return "", fmt.Errorf("etcd JWT: public key %s: %w", k.PublicKey, err)
	}
	if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(priv.Public()) {
		return "", fmt.Errorf("etcd JWT: public key %s is not the one of private key %s", k.PublicKey, k.PrivateKey)
	}
	method, err := signMethod(priv)
	if err != nil {
		return "", fmt.Errorf("etcd JWT: private key %s: %w", k.PrivateKey, err)
	}
	opt := "jwt,pub-key=" + k.PublicKey + ",priv-key=" + k.PrivateKey + ",sign-method=" + method
	if k.TTL > 0 {
		opt += ",ttl=" + k.TTL.String()
	}
	return opt, nil
}

// signMethod is the JWT algorithm etcd signs with a key of this type.
func signMethod(key crypto.Signer) (string, error) {
	switch key := key.(type) {
	case *ecdsa.PrivateKey:
		switch key.Curve {
		case elliptic.P256():
			return "ES256", nil
		case elliptic.P384():
			return "ES384", nil
		case elliptic.P521():
			return "ES512", nil
		}
		return "", fmt.Errorf("EC curve %s: want P-256, P-384 or P-521", key.Curve.Params().Name)
	case *rsa.PrivateKey:
		if key.N.BitLen() < 2048 {
			return "", fmt.Errorf("RSA key of %d bits: want at least 2048", key.N.BitLen())
		}
		return "RS256", nil
	case ed25519.PrivateKey:
		return "EdDSA", nil
	}
	return "", fmt.Errorf("key type %T: want EC, RSA or Ed25519", key)
}

func readPEM(path string) (*pem.Block, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("not PEM")
	}
	return block, nil
}

func readPrivateKey(path string) (crypto.Signer, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q: want a private key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key type %T cannot sign", key)
	}
	return signer, nil
}

func readPublicKey(path string) (crypto.PublicKey, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("PEM block %q: want \"PUBLIC KEY\" (PKIX)", block.Type)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	if _, ok := key.(interface{ Equal(crypto.PublicKey) bool }); !ok {
		return nil, fmt.Errorf("key type %T: want EC, RSA or Ed25519", key)
	}
	return key, nil
}
