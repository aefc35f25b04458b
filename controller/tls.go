package controller

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
)

// serverTLS is the API's TLS configuration: its certificate, and with a client CA, client
// certificates verified against it when given (bearer tokens stay usable over TLS).
func serverTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if keyFile == "" {
		return nil, fmt.Errorf("--tls-cert %s needs --tls-key", certFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load the API's certificate %s and key %s: %w", certFile, keyFile, err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("read --tls-client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-client-ca %s holds no PEM certificate", clientCAFile)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return tc, nil
}

// isLoopbackAddr tells whether a listen address binds loopback only ("127.0.0.1:5801",
// "[::1]:0", "localhost:5801"); ":5801" binds every interface.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckListen refuses an API address beyond loopback unless the API has both TLS and
// authentication, or the operator said --insecure.
func CheckListen(addr string, tlsOn, authOn, insecure bool) error {
	if isLoopbackAddr(addr) || insecure || (tlsOn && authOn) {
		return nil
	}
	return fmt.Errorf("--http %s listens beyond loopback without TLS and authentication: give --tls-cert/--tls-key and --auth-token-file (or --tls-client-ca), listen on 127.0.0.1, or say --insecure", addr)
}
