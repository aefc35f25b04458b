package main

import (
	"io"
	"strings"
	"testing"

	"github.com/helios-go/helios/store"
)

func TestParseConfig(t *testing.T) {
	const (
		plain  = "--name=a --client-url=http://10.0.0.1:2379 --peer-url=http://10.0.0.1:2380 --initial-cluster=a=http://10.0.0.1:2380,b=http://10.0.0.2:2380"
		secure = "--name=a --client-url=https://10.0.0.1:2379 --peer-url=https://10.0.0.1:2380 --initial-cluster=a=https://10.0.0.1:2380,b=https://10.0.0.2:2380"
		files  = " --cert=m.pem --key=m-key.pem --cacert=ca.pem"
		jwt    = " --jwt-private-key=jwt-key.pem --jwt-public-key=jwt.pem"
	)
	jwtKeys := store.JWTKeys{PrivateKey: "jwt-key.pem", PublicKey: "jwt.pem"}
	mem := store.TLSFiles{CertFile: "m.pem", KeyFile: "m-key.pem"}
	peer := store.TLSFiles{CertFile: "m.pem", KeyFile: "m-key.pem", CAFile: "ca.pem"}
	for _, tc := range []struct {
		args         string
		err          string
		client, peer store.TLSFiles
		clientURL    string
		jwt          store.JWTKeys
	}{
		{args: plain, clientURL: "http://10.0.0.1:2379"},
		{args: "--name=helios --initial-cluster=helios=http://127.0.0.1:2380", clientURL: store.DefaultClientURL},
		{args: secure + files, client: mem, peer: peer, clientURL: "https://10.0.0.1:2379"},
		{args: secure + files + " --client-cert-auth", client: peer, peer: peer, clientURL: "https://10.0.0.1:2379"},
		// TLS for clients only: the peers stay in clear on their own network.
		{args: "--name=a --client-url=https://10.0.0.1:2379 --peer-url=http://10.0.0.1:2380 --initial-cluster=a=http://10.0.0.1:2380 --cert=m.pem --key=m-key.pem", client: mem, clientURL: "https://10.0.0.1:2379"},
		{args: secure + files + jwt, client: mem, peer: peer, clientURL: "https://10.0.0.1:2379", jwt: jwtKeys},
		// JWTs do not need TLS (but tokens in clear text can be stolen).
		{args: plain + jwt, clientURL: "http://10.0.0.1:2379", jwt: jwtKeys},
		{args: plain + " --jwt-private-key=jwt-key.pem", err: "--jwt-private-key and --jwt-public-key go together"},
		{args: plain + " --jwt-public-key=jwt.pem", err: "--jwt-private-key and --jwt-public-key go together"},
		{args: plain + " --jwt-private-key=a,b.pem --jwt-public-key=jwt.pem", err: `--jwt-private-key "a,b.pem": etcd cannot take a path with ',' or '='`},
		{args: plain + " --jwt-private-key=jwt-key.pem --jwt-public-key=x=y.pem", err: `--jwt-public-key "x=y.pem"`},
		{args: "", err: "--name is required"},
		{args: plain + " extra", err: `unexpected arguments ["extra"]`},
		{args: plain + " --nope", err: "flag provided but not defined: -nope"},
		{args: strings.Replace(plain, "http://10.0.0.1:2379", "http://etcd-1:2379", 1), err: `--client-url "http://etcd-1:2379" is not http(s)://IP:port`},
		{args: strings.Replace(plain, "--peer-url=http://10.0.0.1:2380", "--peer-url=tcp://10.0.0.1:2380", 1), err: `--peer-url "tcp://10.0.0.1:2380" is not`},
		{args: strings.Replace(plain, "--peer-url=http://10.0.0.1:2380", "--peer-url=http://10.0.0.9:2380", 1), err: "gives member \"a\" the peer URL http://10.0.0.1:2380, but --peer-url is http://10.0.0.9:2380"},
		{args: strings.Replace(plain, "a=http", "c=http", 1), err: `does not list this member "a"`},
		{args: secure, err: "--client-url https://10.0.0.1:2379 is https: give --cert and --key"},
		{args: secure + " --cert=m.pem", err: "--cert and --key go together"},
		{args: secure + " --cert=m.pem --key=m-key.pem", err: "--peer-url https://10.0.0.1:2380 is https: give --cert, --key and --cacert"},
		{args: plain + files, err: "neither --client-url nor --peer-url is https"},
		{args: plain + " --client-cert-auth", err: "--client-cert-auth needs an https --client-url and --cacert"},
	} {
		cfg, err := parseConfig(strings.Fields(tc.args), io.Discard)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseConfig(%s): error %v, want one containing %q", tc.args, err, tc.err)
			}
		case err != nil:
			t.Errorf("parseConfig(%s): %v", tc.args, err)
		case cfg.ClientTLS != tc.client || cfg.PeerTLS != tc.peer || cfg.ClientURL != tc.clientURL || cfg.JWT != tc.jwt:
			t.Errorf("parseConfig(%s) = client %s %+v, peer %+v, JWT %+v; want client %s %+v, peer %+v, JWT %+v",
				tc.args, cfg.ClientURL, cfg.ClientTLS, cfg.PeerTLS, cfg.JWT, tc.clientURL, tc.client, tc.peer, tc.jwt)
		}
	}
}

// Whatever the arguments, a configuration parseConfig accepts has TLS files exactly for
// its https URLs, so etcd never starts with an https URL it cannot serve, and either both
// JWT key files or neither, in paths etcd's --auth-token option can carry.
func FuzzParseConfig(f *testing.F) {
	f.Add("--name=a --client-url=https://10.0.0.1:2379 --peer-url=https://10.0.0.1:2380 --initial-cluster=a=https://10.0.0.1:2380 --cert=m.pem --key=k.pem --cacert=ca.pem")
	f.Add("--name=a --client-url=http://10.0.0.1:2379 --peer-url=http://10.0.0.1:2380 --initial-cluster=a=http://10.0.0.1:2380")
	f.Add("--name=a --initial-cluster=a=http://127.0.0.1:2380 --jwt-private-key=k.pem --jwt-public-key=p.pem")
	f.Fuzz(func(t *testing.T, args string) {
		cfg, err := parseConfig(strings.Fields(args), io.Discard)
		if err != nil {
			return
		}
		https := func(u string) bool { return strings.HasPrefix(u, "https://") }
		if https(cfg.ClientURL) != (cfg.ClientTLS.CertFile != "" && cfg.ClientTLS.KeyFile != "") {
			t.Fatalf("parseConfig(%q): client URL %s with TLS %+v", args, cfg.ClientURL, cfg.ClientTLS)
		}
		if https(cfg.PeerURL) != (cfg.PeerTLS.CertFile != "" && cfg.PeerTLS.KeyFile != "" && cfg.PeerTLS.CAFile != "") {
			t.Fatalf("parseConfig(%q): peer URL %s with TLS %+v", args, cfg.PeerURL, cfg.PeerTLS)
		}
		if (cfg.JWT.PrivateKey == "") != (cfg.JWT.PublicKey == "") || strings.ContainsAny(cfg.JWT.PrivateKey+cfg.JWT.PublicKey, ",=") {
			t.Fatalf("parseConfig(%q): JWT keys %+v", args, cfg.JWT)
		}
	})
}
