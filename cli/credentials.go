package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	ucli "github.com/urfave/cli/v2"
)

// Flags and environment variables of the credentials the CLI presents to masters.
const (
	flagCACert    = "cacert"
	flagCert      = "cert"
	flagKey       = "key"
	flagAuthToken = "auth-token"
	envCACert     = "HELIOS_CACERT"
	envCert       = "HELIOS_CERT"
	envKey        = "HELIOS_KEY"
	envAuthToken  = "HELIOS_AUTH_TOKEN"
)

// credentialFlags are the global flags of TLS and authentication.
func credentialFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: flagCACert, Usage: "CA `FILE` (PEM) verifying HTTPS masters (env " + envCACert + ", config cacert)"},
		&ucli.StringFlag{Name: flagCert, Usage: "client certificate `FILE` (PEM) for masters with mutual TLS (env " + envCert + ", config cert)"},
		&ucli.StringFlag{Name: flagKey, Usage: "key `FILE` (PEM) of --cert (env " + envKey + ", config key)"},
		&ucli.StringFlag{Name: flagAuthToken, Usage: "bearer `TOKEN` naming you to the masters (env " + envAuthToken + ", config authToken); not the job --token"},
	}
}

// credentials are what the CLI presents: the flag, else the environment, else the config
// file.
type credentials struct {
	caCert, cert, key, token string
}

func (r *runner) credentials(c *ucli.Context) (credentials, error) {
	cfg, err := loadFileConfig(r.env("HOME"))
	if err != nil {
		return credentials{}, err
	}
	if cfg == nil {
		cfg = &fileConfig{}
	}
	pick := func(flag, env, file string) string {
		if v := c.String(flag); v != "" {
			return v
		}
		if v := r.env(env); v != "" {
			return v
		}
		return file
	}
	cr := credentials{
		caCert: pick(flagCACert, envCACert, cfg.CACert),
		cert:   pick(flagCert, envCert, cfg.Cert),
		key:    pick(flagKey, envKey, cfg.Key),
		token:  pick(flagAuthToken, envAuthToken, cfg.AuthToken),
	}
	if (cr.cert == "") != (cr.key == "") {
		return cr, usagef("--cert and --key go together: give both or neither")
	}
	return cr, nil
}

// tlsConfig is the TLS configuration the credentials ask for; nil when they ask nothing.
func (cr credentials) tlsConfig(insecure bool) (*tls.Config, error) {
	if cr.caCert == "" && cr.cert == "" && !insecure {
		return nil, nil
	}
	tc := &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // only with -k, which the user asked for
	if cr.caCert != "" {
		pem, err := os.ReadFile(cr.caCert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s holds no PEM certificate", cr.caCert)
		}
		tc.RootCAs = pool
	}
	if cr.cert != "" {
		cert, err := tls.LoadX509KeyPair(cr.cert, cr.key)
		if err != nil {
			return nil, fmt.Errorf("--cert %s / --key %s: %w", cr.cert, cr.key, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
