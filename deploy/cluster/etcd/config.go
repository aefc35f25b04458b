package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/helios-go/helios/store"
)

// parseConfig turns helios-etcd's command line into the member's configuration, checking
// everything etcd would otherwise report as a start-up failure (or not at all, like a
// certificate given with http URLs): the URLs, the initial cluster, the TLS files each
// https URL needs, and both halves of the JWT key pair. Errors name the flag. usage receives the flag set's help.
func parseConfig(args []string, usage io.Writer) (store.EmbedConfig, error) {
	var cfg store.EmbedConfig
	var cert, key, ca string
	var clientCertAuth bool
	fs := flag.NewFlagSet("helios-etcd", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&cfg.Name, "name", "", "member name")
	fs.StringVar(&cfg.DataDir, "data-dir", "/var/lib/helios/etcd", "data directory")
	fs.StringVar(&cfg.ClientURL, "client-url", store.DefaultClientURL, "client URL, http(s)://IP:port (an IP: it is also listened on)")
	fs.StringVar(&cfg.PeerURL, "peer-url", store.DefaultPeerURL, "peer URL, http(s)://IP:port (an IP: it is also listened on)")
	fs.StringVar(&cfg.InitialCluster, "initial-cluster", "", "every member as name=http(s)://IP:port,..., this one included")
	fs.StringVar(&cert, "cert", "", "this member's certificate (PEM), served on https URLs and presented to peers")
	fs.StringVar(&key, "key", "", "key (PEM) of --cert")
	fs.StringVar(&ca, "cacert", "", "CA (PEM) that must have signed the peers' certificates (an https --peer-url needs it)")
	fs.BoolVar(&clientCertAuth, "client-cert-auth", false, "clients too must present a certificate signed by --cacert")
	fs.StringVar(&cfg.JWT.PrivateKey, "jwt-private-key", "", "private key (PEM) to sign authentication tokens with as JWTs that every member accepts; the same on every member (with --jwt-public-key)")
	fs.StringVar(&cfg.JWT.PublicKey, "jwt-public-key", "", "public key (PEM, PKIX) of --jwt-private-key")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.Name == "" {
		return cfg, errors.New("--name is required")
	}
	client, err := parseMemberURL("--client-url", cfg.ClientURL)
	if err != nil {
		return cfg, err
	}
	peer, err := parseMemberURL("--peer-url", cfg.PeerURL)
	if err != nil {
		return cfg, err
	}
	members, err := parseInitialCluster(cfg.InitialCluster, cfg.Name)
	if err != nil {
		return cfg, err
	}
	if members[cfg.Name] != cfg.PeerURL {
		return cfg, fmt.Errorf("--initial-cluster gives member %q the peer URL %s, but --peer-url is %s", cfg.Name, members[cfg.Name], cfg.PeerURL)
	}
	if (cert == "") != (key == "") {
		return cfg, errors.New("--cert and --key go together")
	}
	if (cfg.JWT.PrivateKey == "") != (cfg.JWT.PublicKey == "") {
		return cfg, errors.New("--jwt-private-key and --jwt-public-key go together")
	}
	for _, f := range []struct{ flag, path string }{{"--jwt-private-key", cfg.JWT.PrivateKey}, {"--jwt-public-key", cfg.JWT.PublicKey}} {
		if strings.ContainsAny(f.path, ",=") {
			return cfg, fmt.Errorf("%s %q: etcd cannot take a path with ',' or '='", f.flag, f.path)
		}
	}
	switch {
	case client.Scheme == "https" && cert == "":
		return cfg, fmt.Errorf("--client-url %s is https: give --cert and --key", cfg.ClientURL)
	case peer.Scheme == "https" && (cert == "" || ca == ""):
		return cfg, fmt.Errorf("--peer-url %s is https: give --cert, --key and --cacert (the peers' CA)", cfg.PeerURL)
	case client.Scheme != "https" && peer.Scheme != "https" && (cert != "" || ca != ""):
		return cfg, errors.New("--cert, --key or --cacert given, but neither --client-url nor --peer-url is https")
	case clientCertAuth && (client.Scheme != "https" || ca == ""):
		return cfg, errors.New("--client-cert-auth needs an https --client-url and --cacert")
	}
	if client.Scheme == "https" {
		cfg.ClientTLS = store.TLSFiles{CertFile: cert, KeyFile: key}
		if clientCertAuth {
			cfg.ClientTLS.CAFile = ca
		}
	}
	if peer.Scheme == "https" {
		cfg.PeerTLS = store.TLSFiles{CertFile: cert, KeyFile: key, CAFile: ca}
	}
	return cfg, nil
}

// parseMemberURL checks a --client-url or --peer-url: http(s)://IP:port, nothing else.
func parseMemberURL(flagName, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || !isIPURL(u) {
		return nil, fmt.Errorf("%s %q is not http(s)://IP:port", flagName, raw)
	}
	return u, nil
}
