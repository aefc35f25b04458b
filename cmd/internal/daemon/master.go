package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/helios-go/helios/controller"
	"github.com/helios-go/helios/controller/api"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	ucli "github.com/urfave/cli/v2"
	"go.uber.org/zap"
)

// MasterFlags are the flags of a master, shared by helios-master and helios-solo.
func MasterFlags() []ucli.Flag {
	host, _ := os.Hostname()
	return []ucli.Flag{
		&ucli.StringFlag{Name: "name", Value: host, Usage: "`NAME` of this master, as 'helios masters' lists it"},
		&ucli.StringFlag{Name: "http", Value: "127.0.0.1:5801", Usage: "address of the REST API (and /metrics); beyond loopback it needs TLS and authentication, or --insecure"},
		&ucli.StringFlag{Name: "tls-cert", Usage: "certificate `FILE` (PEM) of the API: serve HTTPS"},
		&ucli.StringFlag{Name: "tls-key", Usage: "key `FILE` (PEM) of --tls-cert"},
		&ucli.StringFlag{Name: "tls-client-ca", Usage: "CA `FILE` (PEM): client certificates it signed authenticate (CN the user, O the role: reader, deployer or admin)"},
		&ucli.StringFlag{Name: "auth-token-file", Usage: "bearer tokens `FILE`: one token,user,role per line (roles reader, deployer, admin)"},
		&ucli.BoolFlag{Name: "insecure", Usage: "allow --http beyond loopback without TLS and authentication"},
		&ucli.StringFlag{Name: "metrics", Usage: "optional second address serving only /metrics, e.g. 127.0.0.1:5802"},
		PprofFlag("--metrics"),
		&ucli.StringSliceFlag{Name: "whitelisted-capability", Usage: "Linux capability jobs may add with addCapabilities (repeatable; default: none)"},
		&ucli.DurationFlag{Name: "master-lease-ttl", Value: 10 * time.Second, Usage: "TTL of the lease that keeps this master listed"},
		&ucli.DurationFlag{Name: "leader-lease-ttl", Value: 10 * time.Second, Usage: "TTL of the controller leadership: a dead leader is replaced within it"},
		&ucli.DurationFlag{Name: "agent-reaping-timeout", Value: 14 * 24 * time.Hour, Usage: "deregister hosts that have been DOWN longer than this (0: never)"},
		&ucli.DurationFlag{Name: "expiry-interval", Value: 30 * time.Second, Usage: "how often the leader undeploys and removes jobs past their expires"},
		&ucli.DurationFlag{Name: "http-read-timeout", Value: controller.DefaultReadTimeout, Usage: "a request's headers and body must arrive within this"},
		&ucli.DurationFlag{Name: "http-idle-timeout", Value: controller.DefaultIdleTimeout, Usage: "an idle keep-alive connection is closed after this"},
		&ucli.IntFlag{Name: "max-watch-streams", Value: api.DefaultMaxStreams, Usage: "watch streams this master serves at most (429 beyond)"},
		&ucli.IntFlag{Name: "max-watch-streams-per-client", Value: api.DefaultMaxStreamsPerClient, Usage: "watch streams one client address may hold open"},
		&ucli.BoolFlag{Name: "metrics-auth", Usage: "with authentication on, /metrics on the API port needs the reader role (default: open, as Prometheus expects; --metrics stays open)"},
		&ucli.IntFlag{Name: "event-buffer", Value: api.DefaultEventBuffer, Usage: "recent cluster events kept, so GET /events clients resume from a revision without a watch of their own"},
		&ucli.IntFlag{Name: "event-client-buffer", Value: api.DefaultSubscriberBuffer, Usage: "cluster events queued for one GET /events client; one that falls further behind is cut off"},
		&ucli.DurationFlag{Name: "watch-write-timeout", Value: api.DefaultStreamWriteTimeout, Usage: "a watch client that takes no line within this is cut off"},
		&ucli.DurationFlag{Name: "dns-ttl", Value: 5 * time.Second, Usage: "DNS TTL of the SkyDNS records the leader writes (docs/discovery.md)"},
		&ucli.DurationFlag{Name: "dns-resync-interval", Value: 30 * time.Second, Usage: "the leader's DNS mirror reads every endpoint and record again at least this often; between, it follows a watch of the endpoints"},
	}
}

// CommonFlags are the logging and etcd flags every daemon has.
func CommonFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "etcd-prefix", Value: "/helios", Usage: "root of Helios's keys in etcd"},
		&ucli.DurationFlag{Name: "etcd-timeout", Value: 5 * time.Second, Usage: "deadline of each etcd request"},
		&ucli.StringFlag{Name: "etcd-cacert", Usage: "CA bundle (PEM) verifying the etcd servers' certificates; turns on TLS"},
		&ucli.StringFlag{Name: "etcd-cert", Usage: "client certificate (PEM) presented to etcd (with --etcd-key)"},
		&ucli.StringFlag{Name: "etcd-key", Usage: "key (PEM) of --etcd-cert"},
		&ucli.StringFlag{Name: "etcd-username", Usage: "etcd user, when etcd authentication is on"},
		&ucli.StringFlag{Name: "etcd-password", EnvVars: []string{"HELIOS_ETCD_PASSWORD"}, Usage: "password of --etcd-username (better given as $HELIOS_ETCD_PASSWORD or --etcd-password-file)"},
		&ucli.StringFlag{Name: "etcd-password-file", Usage: "`FILE` holding the password of --etcd-username (mode 0600; 'helios-master etcd-auth' writes it)"},
		&ucli.StringFlag{Name: "cluster-id", EnvVars: []string{"HELIOS_CLUSTER_ID"}, Usage: "name of the Helios cluster: the first process claims the etcd key root for it, and any process with another name refuses to start"},
		&ucli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"},
		&ucli.BoolFlag{Name: "log-console", Usage: "human-readable logs instead of JSON"},
	}
}

// NewRegistry is a Prometheus registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// ConnectStore connects to etcd at endpoints and wraps the client in a Store configured
// from the common flags. close releases the client.
func ConnectStore(ctx context.Context, c *ucli.Context, endpoints []string, log *zap.Logger, reg prometheus.Registerer) (st *store.Store, close func(), err error) {
	password, err := etcdPassword(c)
	if err != nil {
		return nil, nil, err
	}
	st, err = store.Open(ctx, store.ConnectConfig{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		TLS:         store.TLSFiles{CAFile: c.String("etcd-cacert"), CertFile: c.String("etcd-cert"), KeyFile: c.String("etcd-key")},
		Username:    c.String("etcd-username"),
		Password:    password,
		Logger:      log,
	}, store.Config{
		Prefix:         c.String("etcd-prefix"),
		RequestTimeout: c.Duration("etcd-timeout"),
		Logger:         log,
		Registerer:     reg,
	})
	if err != nil {
		return nil, nil, err
	}
	return st, func() { _ = st.Close() }, nil
}

// etcdPassword is --etcd-password or the content of --etcd-password-file (not both).
func etcdPassword(c *ucli.Context) (string, error) {
	f := c.String("etcd-password-file")
	switch {
	case f == "":
		return c.String("etcd-password"), nil
	case c.String("etcd-password") != "":
		return "", errors.New("--etcd-password (or $HELIOS_ETCD_PASSWORD) and --etcd-password-file: give one")
	case c.String("etcd-username") == "":
		return "", errors.New("--etcd-password-file needs --etcd-username")
	}
	pw, err := ReadPasswordFile(f)
	if err != nil {
		return "", fmt.Errorf("--etcd-password-file: %w", err)
	}
	return pw, nil
}

// StartMaster binds the master's listeners and prints where they are.
func StartMaster(c *ucli.Context, st *store.Store, log *zap.Logger, reg *prometheus.Registry) (*controller.Master, error) {
	policy, err := ParsePolicy(c)
	if err != nil {
		return nil, err
	}
	var tokens map[string]model.Principal
	if f := c.String("auth-token-file"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--auth-token-file: %w", err)
		}
		if tokens, err = model.ParseTokenFile(data); err != nil {
			return nil, fmt.Errorf("--auth-token-file %s: %w", f, err)
		}
	}
	authOn := len(tokens) > 0 || c.String("tls-client-ca") != ""
	if c.String("tls-client-ca") != "" && c.String("tls-cert") == "" {
		return nil, errors.New("--tls-client-ca needs --tls-cert and --tls-key: client certificates come with TLS")
	}
	if err := controller.CheckListen(c.String("http"), c.String("tls-cert") != "", authOn, c.Bool("insecure")); err != nil {
		return nil, err
	}
	disc, err := masterDiscovery(c)
	if err != nil {
		return nil, err
	}
	if c.Duration("dns-ttl") < time.Second || c.Duration("dns-resync-interval") <= 0 {
		return nil, errors.New("--dns-ttl must be at least 1s and --dns-resync-interval positive")
	}
	m, err := controller.NewMaster(controller.MasterConfig{
		JobPolicy:           &policy,
		Tokens:              tokens,
		TLSCertFile:         c.String("tls-cert"),
		TLSKeyFile:          c.String("tls-key"),
		TLSClientCAFile:     c.String("tls-client-ca"),
		Name:                c.String("name"),
		HTTPAddr:            c.String("http"),
		MetricsAddr:         c.String("metrics"),
		Pprof:               c.Bool("pprof") && (c.String("metrics") != "" || !c.IsSet("agent-metrics")),
		Store:               st,
		Logger:              log,
		Registry:            reg,
		CapabilityWhitelist: c.StringSlice("whitelisted-capability"),
		LeaseTTL:            c.Duration("master-lease-ttl"),
		LeaderTTL:           c.Duration("leader-lease-ttl"),
		ExpiryInterval:      c.Duration("expiry-interval"),
		AgentReapingTimeout: c.Duration("agent-reaping-timeout"),
		ReadTimeout:         c.Duration("http-read-timeout"),
		IdleTimeout:         c.Duration("http-idle-timeout"),
		MaxStreams:          c.Int("max-watch-streams"),
		MaxStreamsPerClient: c.Int("max-watch-streams-per-client"),
		StreamWriteTimeout:  c.Duration("watch-write-timeout"),
		Domain:              disc.Domain,
		AdvertiseAddress:    disc.AdvertiseAddress,
		DNS:                 controller.DNSConfig{SkyDNSPath: disc.SkyDNSPath, TTL: c.Duration("dns-ttl"), ResyncInterval: c.Duration("dns-resync-interval")},
		MetricsAuth:         c.Bool("metrics-auth"),
		EventBuffer:         c.Int("event-buffer"),
		EventClientBuffer:   c.Int("event-client-buffer"),
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c.App.Writer, "helios master %q: API on %s (metrics at /metrics)\n", c.String("name"), URL(m.Scheme(), m.APIAddr()))
	if a := m.MetricsAddr(); a != nil {
		fmt.Fprintf(c.App.Writer, "helios master %q: metrics on %s/metrics\n", c.String("name"), URL("http", a))
	}
	return m, nil
}

// URL is the URL of a listening address; an unspecified host (":5801") becomes 127.0.0.1
// so the printed URL can be pasted as is.
func URL(scheme string, a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return scheme + "://" + a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// RunUntilDone runs fn and reports a clean exit when ctx was cancelled by a signal.
func RunUntilDone(ctx context.Context, fn func(context.Context) error) error {
	if err := fn(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// PprofFlag is --pprof: Go's profiles on the metrics listener (never on the API's), off by
// default. metricsFlag names the listener's flag in the usage. In helios-solo, master and
// agent are one process and share the flag: the profiles are served on whichever metrics
// listener is set (--metrics, else --agent-metrics).
func PprofFlag(metricsFlag string) ucli.Flag {
	return &ucli.BoolFlag{Name: "pprof", Usage: "serve Go's profiles (/debug/pprof/) on the " + metricsFlag + " listener, for finding where time goes"}
}

// masterDiscovery is the discovery flags of a master: without --advertise-address its record
// points at the host of --http when that names one, else at the primary address.
func masterDiscovery(c *ucli.Context) (Discovery, error) {
	d, err := ParseDiscovery(c.String("domain"), c.String("advertise-address"), c.String("skydns-path"))
	if err != nil || d.Domain == "" || d.AdvertiseAddress != "" {
		return d, err
	}
	if host, _, err := net.SplitHostPort(c.String("http")); err == nil {
		if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
			d.AdvertiseAddress = host
			return d, nil
		}
	}
	if d.AdvertiseAddress, err = PrimaryAddress(); err != nil {
		return d, fmt.Errorf("--advertise-address not given and %w", err)
	}
	return d, nil
}
