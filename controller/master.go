package controller

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/helios-go/helios/controller/api"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// MasterConfig wires one master process.
type MasterConfig struct {
	Name                string               // required: how the master is listed under /status/masters
	HTTPAddr            string               // API listen address, e.g. ":5801"; "127.0.0.1:0" picks a port
	MetricsAddr         string               // optional second address serving only /metrics
	Pprof               bool                 // also serve /debug/pprof/ on MetricsAddr (HandlePprof)
	Store               *store.Store         // required
	Logger              *zap.Logger          // nil: no logs
	Registry            *prometheus.Registry // nil: a new one
	CapabilityWhitelist []string
	JobPolicy           *model.JobPolicy // nil: model.DefaultJobPolicy
	LeaseTTL            time.Duration    // liveness lease of the master's registration, default 10s
	LeaderTTL           time.Duration    // lease of the controller leadership, default 10s: a dead leader is replaced within it
	DownSweepInterval   time.Duration    // how often the leader looks for hosts that went down unseen, default 30s
	ExpiryInterval      time.Duration    // how often the leader expires jobs past their `expires`, default 30s
	AgentReapingTimeout time.Duration    // hosts down longer are deregistered; 0: never
	// HTTP server limits: a request (headers and body) must arrive within ReadTimeout, an
	// idle keep-alive connection is closed after IdleTimeout, headers are at most
	// MaxHeaderBytes (defaults 30s, 2m, 64 KiB). Watch streams: see api.Config.
	ReadTimeout         time.Duration
	IdleTimeout         time.Duration
	MaxHeaderBytes      int
	MaxStreams          int
	MaxStreamsPerClient int
	StreamWriteTimeout  time.Duration
	// TLS on the API: a certificate and key (PEM files); with ClientCAFile, client
	// certificates signed by that CA authenticate (CN the user, O the role).
	TLSCertFile, TLSKeyFile, TLSClientCAFile string
	// Tokens are the bearer tokens of --auth-token-file.
	Tokens map[string]model.Principal
	// Domain (--domain) gives the master its own DNS record, _helios._http.<Domain> (or
	// _https), at AdvertiseAddress and the API's port; "" for none. DNS configures the
	// leader's mirror of every record (docs/discovery.md).
	Domain           string
	AdvertiseAddress string
	DNS              DNSConfig
	// MetricsAuth puts /metrics on the API port behind the reader role (--metrics-auth).
	MetricsAuth bool
	// The cluster event stream: events kept for resuming, and queued per client (see
	// api.EventsConfig; 0: defaults).
	EventBuffer, EventClientBuffer int
}

// Defaults of the master's HTTP server limits.
const (
	DefaultReadTimeout    = 30 * time.Second
	DefaultIdleTimeout    = 2 * time.Minute
	DefaultMaxHeaderBytes = 64 << 10
)

// Master serves the REST API and keeps the master registered in etcd while it runs.
type Master struct {
	cfg        MasterConfig
	log        *zap.Logger
	api        net.Listener
	metrics    net.Listener
	handler    http.Handler
	metricsMux http.Handler
	events     *api.Events
	m          *metrics
	dns        *dnsMetrics
	scheme     string // of the API: http or https
}

// NewMaster binds the listeners at once, so callers can print the real addresses (port 0)
// before Run, and a port already taken fails here with a clear error.
func NewMaster(cfg MasterConfig) (*Master, error) {
	if cfg.Name == "" || cfg.Store == nil {
		return nil, errors.New("master: name and store are required")
	}
	if cfg.Pprof && cfg.MetricsAddr == "" {
		return nil, errors.New("master: pprof is served on the metrics address, and none is set (--pprof needs --metrics)")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 10 * time.Second
	}
	if cfg.LeaderTTL <= 0 {
		cfg.LeaderTTL = 10 * time.Second
	}
	if cfg.DownSweepInterval <= 0 {
		cfg.DownSweepInterval = 30 * time.Second
	}
	if cfg.ExpiryInterval <= 0 {
		cfg.ExpiryInterval = 30 * time.Second
	}
	if cfg.DNS.TTL <= 0 {
		cfg.DNS.TTL = 5 * time.Second
	}
	if cfg.DNS.ResyncInterval <= 0 {
		cfg.DNS.ResyncInterval = 30 * time.Second
	}
	if cfg.Domain != "" && cfg.AdvertiseAddress == "" {
		return nil, errors.New("master: a domain needs an advertise address")
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	events := api.NewEvents(api.EventsConfig{Store: cfg.Store, Logger: cfg.Logger.Named("events"),
		Buffer: cfg.EventBuffer, SubscriberBuffer: cfg.EventClientBuffer})
	h, err := api.New(api.Config{
		Store:               cfg.Store,
		Logger:              cfg.Logger,
		Registerer:          cfg.Registry,
		Gatherer:            cfg.Registry,
		Version:             model.Version,
		MasterName:          cfg.Name,
		CapabilityWhitelist: cfg.CapabilityWhitelist,
		JobPolicy:           cfg.JobPolicy,
		Tokens:              cfg.Tokens,
		ClientCertAuth:      cfg.TLSClientCAFile != "",
		LoopbackOnly:        isLoopbackAddr(cfg.HTTPAddr) && len(cfg.Tokens) == 0 && cfg.TLSClientCAFile == "",
		MaxStreams:          cfg.MaxStreams,
		MaxStreamsPerClient: cfg.MaxStreamsPerClient,
		StreamWriteTimeout:  cfg.StreamWriteTimeout,
		MetricsAuth:         cfg.MetricsAuth,
		Events:              events,
	})
	if err != nil {
		return nil, fmt.Errorf("master: %w", err)
	}
	m := &Master{cfg: cfg, log: cfg.Logger, handler: h, events: events, m: newMetrics(cfg.Registry), dns: newDNSMetrics(cfg.Registry), scheme: "http"}
	if m.api, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("master: listen for the API on %s: %w", cfg.HTTPAddr, err)
	}
	if cfg.TLSCertFile != "" {
		tc, err := serverTLS(cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSClientCAFile)
		if err != nil {
			m.api.Close()
			return nil, fmt.Errorf("master: %w", err)
		}
		m.api, m.scheme = tls.NewListener(m.api, tc), "https"
	}
	if cfg.MetricsAddr != "" {
		if m.metrics, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			m.api.Close()
			return nil, fmt.Errorf("master: listen for metrics on %s: %w", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{Registry: cfg.Registry}))
		if cfg.Pprof {
			HandlePprof(mux)
		}
		m.metricsMux = mux
	}
	return m, nil
}

// Scheme is the API's URL scheme: https with TLS, else http.
func (m *Master) Scheme() string { return m.scheme }

// APIAddr is where the REST API listens.
func (m *Master) APIAddr() net.Addr { return m.api.Addr() }

// MetricsAddr is the separate metrics address, or nil.
func (m *Master) MetricsAddr() net.Addr {
	if m.metrics == nil {
		return nil
	}
	return m.metrics.Addr()
}

// Run serves until ctx ends, then shuts the servers down gracefully.
func (m *Master) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 8)
	servers := []*http.Server{m.server(m.handler)}
	go func() { errc <- serve(servers[0], m.api) }()
	if m.metrics != nil {
		s := m.server(m.metricsMux)
		servers = append(servers, s)
		go func() { errc <- serve(s, m.metrics) }()
	}
	// register and campaign revoke their leases and resign as they return. Run waits for
	// them: the caller closes the etcd client once Run returns, and a master whose revoke
	// met a closed client stayed listed, and a candidate, for a whole lease TTL.
	var wg sync.WaitGroup
	wg.Add(3)
	defer wg.Wait()
	go func() {
		defer wg.Done()
		if err := m.events.Run(ctx); ctx.Err() == nil {
			errc <- fmt.Errorf("master: event stream: %w", err)
		}
	}()
	go func() { defer wg.Done(); errc <- m.register(ctx) }()
	go func() {
		defer wg.Done()
		errc <- campaign(ctx, m.cfg.Store, m.cfg.Name, m.cfg.LeaderTTL, m.log.Named("leader"), m.m.leader,
			recordHostsDown(m.cfg.Store, m.cfg.DownSweepInterval, m.cfg.AgentReapingTimeout, m.log.Named("hosts-down")),
			reapExpiredJobs(m.cfg.Store, m.cfg.ExpiryInterval, m.log.Named("expiry")),
			maintainKeys(m.cfg.Store, m.log.Named("keys")),
			newRollouts(m.cfg.Store, m.cfg.Name, m.log.Named("rollouts"), m.m).run,
			mirrorDNS(m.cfg.Store, m.cfg.DNS, m.log.Named("dns"), m.dns))
	}()

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	for _, s := range servers {
		_ = s.Shutdown(shutdownCtx) // best effort: the process is going away
	}
	return err
}

// server is an http.Server with the master's limits: a request trickled in, or a
// connection left idle, is cut off instead of being held forever.
func (m *Master) server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, m.cfg.ReadTimeout),
		ReadTimeout:       m.cfg.ReadTimeout,
		IdleTimeout:       m.cfg.IdleTimeout,
		MaxHeaderBytes:    m.cfg.MaxHeaderBytes,
	}
}

func serve(s *http.Server, l net.Listener) error {
	if err := s.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", l.Addr(), err)
	}
	return nil
}

// register keeps /status/masters/<name> bound to a live lease so `helios masters` lists
// exactly the masters that are running.
func (m *Master) register(ctx context.Context) error {
	info := model.MasterInfo{
		Name:      m.cfg.Name,
		Endpoint:  m.scheme + "://" + m.api.Addr().String(),
		Version:   model.Version,
		StartTime: time.Now().UnixMilli(),
		DNS:       m.dnsEntry(),
	}
	err := m.cfg.Store.KeepLeased(ctx, m.cfg.LeaseTTL, m.log, func(ctx context.Context, lease store.LeaseID) error {
		return m.cfg.Store.PutMaster(ctx, info, lease)
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// dnsEntry is the master's own service record, or nil without a domain: the API's port at
// the advertised address (--http may be ":5801", which names no host).
func (m *Master) dnsEntry() *model.Endpoint {
	if m.cfg.Domain == "" {
		return nil
	}
	port := 0
	if a, ok := m.api.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	return &model.Endpoint{Service: "helios", Proto: m.scheme, Name: model.SRVName("helios", m.scheme, m.cfg.Domain),
		Host: m.cfg.AdvertiseAddress, Port: port}
}
