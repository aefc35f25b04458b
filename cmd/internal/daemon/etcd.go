package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"github.com/helios-go/helios/store"
	ucli "github.com/urfave/cli/v2"
	"go.uber.org/zap"
)

// HomeDir is where a daemon keeps its data by default: ~/.helios/<name>, a fixed place
// whatever directory the daemon was started from. Without a home directory it is under the
// system's temporary directory.
func HomeDir(name string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return filepath.Join(os.TempDir(), "helios", name)
	}
	return filepath.Join(home, ".helios", name)
}

// EtcdFlags choose between an external etcd cluster (--etcd) and an embedded member.
func EtcdFlags(defaultDataDir string) []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringSliceFlag{Name: "etcd", Usage: "etcd client endpoints, e.g. http://10.0.0.1:2379 (repeatable); none: run an embedded etcd"},
		&ucli.StringFlag{Name: "data-dir", Value: defaultDataDir, Usage: "data directory of the embedded etcd (kept across restarts)"},
		&ucli.StringFlag{Name: "etcd-client-url", Value: "http://127.0.0.1:2379", Usage: "where the embedded etcd serves clients"},
		&ucli.StringFlag{Name: "etcd-peer-url", Value: "http://127.0.0.1:2380", Usage: "where the embedded etcd listens for peers"},
		&ucli.StringFlag{Name: "etcd-name", Value: "helios", Usage: "member name of the embedded etcd"},
		&ucli.StringFlag{Name: "embedded-etcd-cert", Usage: "certificate `FILE` (PEM) the embedded etcd serves clients with (its --etcd-client-url is then https://)"},
		&ucli.StringFlag{Name: "embedded-etcd-key", Usage: "key `FILE` (PEM) of --embedded-etcd-cert"},
		&ucli.StringFlag{Name: "embedded-etcd-client-ca", Usage: "CA `FILE` (PEM): the embedded etcd's clients must present a certificate it signed"},
	}
}

// checkEmbeddedClientURL refuses to serve etcd's clients beyond loopback in clear text:
// whoever reaches that port could read and write every key (job secrets included).
func checkEmbeddedClientURL(raw string, tls bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--etcd-client-url %q: want a URL such as http://127.0.0.1:2379", raw)
	}
	switch {
	case tls && u.Scheme != "https":
		return fmt.Errorf("--etcd-client-url %s: with --embedded-etcd-cert the URL must be https://", raw)
	case !tls && u.Scheme != "http":
		return fmt.Errorf("--etcd-client-url %s: https:// needs --embedded-etcd-cert and --embedded-etcd-key", raw)
	}
	if tls {
		return nil
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("--etcd-client-url %s would serve etcd's clients beyond loopback without TLS: give --embedded-etcd-cert and --embedded-etcd-key (and an https:// URL), or keep it on 127.0.0.1", raw)
}

// EtcdEndpoints returns --etcd, or starts the embedded etcd and returns its endpoints.
// stop closes the embedded member (a no-op for an external cluster).
func EtcdEndpoints(ctx context.Context, c *ucli.Context, log *zap.Logger) (endpoints []string, stop func(), err error) {
	if eps := c.StringSlice("etcd"); len(eps) > 0 {
		return eps, func() {}, nil
	}
	serverTLS := store.TLSFiles{CertFile: c.String("embedded-etcd-cert"), KeyFile: c.String("embedded-etcd-key"), CAFile: c.String("embedded-etcd-client-ca")}
	if (serverTLS.CertFile == "") != (serverTLS.KeyFile == "") {
		return nil, nil, errors.New("--embedded-etcd-cert and --embedded-etcd-key go together")
	}
	if serverTLS.CAFile != "" && serverTLS.CertFile == "" {
		return nil, nil, errors.New("--embedded-etcd-client-ca needs --embedded-etcd-cert and --embedded-etcd-key")
	}
	if err := checkEmbeddedClientURL(c.String("etcd-client-url"), serverTLS.CertFile != ""); err != nil {
		return nil, nil, err
	}
	e, err := store.StartEmbedded(ctx, store.EmbedConfig{
		Name:      c.String("etcd-name"),
		DataDir:   c.String("data-dir"),
		ClientURL: c.String("etcd-client-url"),
		PeerURL:   c.String("etcd-peer-url"),
		ClientTLS: serverTLS,
		Logger:    log.Named("etcd").WithOptions(zap.IncreaseLevel(zap.WarnLevel)), // etcd is chatty at info
	})
	if err != nil {
		return nil, nil, fmt.Errorf("start embedded etcd in %s: %w", c.String("data-dir"), err)
	}
	fmt.Fprintf(c.App.Writer, "embedded etcd: clients on %s, data in %s\n", e.Endpoints()[0], c.String("data-dir"))
	return e.Endpoints(), e.Close, nil
}
