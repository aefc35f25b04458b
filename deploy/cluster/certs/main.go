// Command helios-cluster-certs makes the certificates of `make cluster`'s secured layout: a
// CA (kept and reused when DIR already holds one) and, per --cert NAME=SAN,..., a
// certificate and key for NAME signed by it, valid for its SANs, 127.0.0.1 and localhost,
// for serving and as a client (etcd members present theirs to their peers). With --jwt
// also jwt-key.pem and jwt.pem, the ECDSA P-256 key pair all etcd members sign and verify
// their authentication tokens with (kept when DIR already holds one). Keys are written
// 0600 in a 0700 DIR. It replaces an openssl dependency; it is demo tooling, not
// a PKI: the CA's key sits beside the certificates.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	opts, err := parseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err == nil {
		err = write(opts, time.Now(), os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helios-cluster-certs:", err)
		os.Exit(1)
	}
}
