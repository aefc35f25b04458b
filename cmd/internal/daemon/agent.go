package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/agent/docker"
	"github.com/helios-go/helios/agent/fake"
	"github.com/helios-go/helios/controller"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	ucli "github.com/urfave/cli/v2"

	"go.uber.org/zap"
)

// AgentFlags are the flags of an agent, shared by helios-agent and helios-solo.
// metricsFlag names the flag of the agent's metrics address: "metrics" in helios-agent,
// something else where a master already has --metrics (solo).
func AgentFlags(defaultName, metricsFlag string) []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "name", Value: defaultName, Usage: "host name the agent registers as"},
		&ucli.StringSliceFlag{Name: "labels", Usage: "host label k=v (repeatable or comma-separated)"},
		&ucli.StringSliceFlag{Name: "env", Usage: "K=V added to every container's environment (repeatable)"},
		&ucli.StringFlag{Name: "port-range", Value: "20000:32768", Usage: "dynamic host ports start:end (end exclusive)"},
		&ucli.StringFlag{Name: "state-dir", Usage: "where the agent keeps its host id, cluster id, container record and last deployments, private to it (default /var/lib/helios/agent-<name> as root, else ~/.helios/agent-<name>)"},
		&ucli.StringFlag{Name: "docker", Value: "unix:///var/run/docker.sock", Usage: "Docker engine address"},
		&ucli.StringSliceFlag{Name: "dns", Usage: "DNS server for every container (repeatable)"},
		&ucli.StringSliceFlag{Name: "bind", Usage: "extra bind mount src:dst[:ro] for every container (repeatable)"},
		&ucli.StringSliceFlag{Name: "add-host", Usage: "host:ip added to every container's /etc/hosts (repeatable)"},
		&ucli.StringFlag{Name: "syslog-redirect-to", Usage: "host:port of a syslog server receiving every container's output"},
		&ucli.StringFlag{Name: metricsFlag, Value: "127.0.0.1:5803", Usage: "address serving the agent's /metrics (empty: none)"},
		&ucli.DurationFlag{Name: "lease-ttl", Value: 10 * time.Second, Usage: "TTL of the lease keeping the host UP"},
		&ucli.DurationFlag{Name: "resync-interval", Value: 30 * time.Second, Usage: "full reconcile at least this often"},
		&ucli.DurationFlag{Name: "restart-delay", Value: time.Second, Usage: "pause before an exited container is restarted"},
		&ucli.DurationFlag{Name: "health-check-interval", Value: time.Second, Usage: "first pause between health checks of a starting task"},
		&ucli.DurationFlag{Name: "health-check-max-interval", Value: 30 * time.Second, Usage: "the pause between health checks doubles up to this"},
		&ucli.IntFlag{Name: "flapping-runs", Value: 10, Usage: "a task whose last this many runs lasted less than --flapping-window in total is FLAPPING"},
		&ucli.DurationFlag{Name: "flapping-window", Value: 60 * time.Second, Usage: "see --flapping-runs"},
		&ucli.DurationFlag{Name: "flapping-restart-delay", Value: 30 * time.Second, Usage: "restart delay of a FLAPPING task"},
		&ucli.BoolFlag{Name: "always-pull", Usage: "pull the image before creating every container, not only when it is missing"},
		&ucli.DurationFlag{Name: "image-missing-retry", Value: 2 * time.Minute, Usage: "retry of a task whose image the registry does not have (IMAGE_MISSING)"},
		&ucli.DurationFlag{Name: "image-pull-retry", Value: 2 * time.Minute, Usage: "retry of a task whose image pull failed otherwise (IMAGE_PULL_FAILED)"},
		&ucli.DurationFlag{Name: "startup-join-wait", Value: 10 * time.Second, Usage: "at start-up, how long to wait for etcd before managing containers from the state dir"},
		&ucli.StringFlag{Name: "docker-config", Usage: "Docker config file with registry credentials (default $DOCKER_CONFIG/config.json or ~/.docker/config.json)"},
		&ucli.DurationFlag{Name: "withdraw-wait", Value: 5 * time.Second, Usage: "before stopping a registered task whose job has no gracePeriod, wait at most this for DNS to drop its records"},
		&ucli.BoolFlag{Name: "fake-runtime", Usage: "run containers in memory only (hollow agents for scale tests)"},
	}
}

// AgentSettings are the agent flags, parsed and checked.
type AgentSettings struct {
	Name, DockerHost, StateDir, MetricsAddr string
	Labels                                  map[string]string
	Defaults                                agent.HostDefaults
	PortRange                               agent.PortRange
	LeaseTTL, Resync, RestartDelay          time.Duration
	HealthCheckInterval, HealthCheckMax     time.Duration
	FlappingRuns                            int
	FlappingWindow, FlappingRestartDelay    time.Duration
	AlwaysPull                              bool
	ImageMissingRetry, ImagePullRetry       time.Duration
	StartupJoinWait                         time.Duration
	DockerConfig                            string
	Fake                                    bool
	Pprof                                   bool // serve /debug/pprof/ on MetricsAddr
	Policy                                  model.JobPolicy
	Discovery                               Discovery // --domain, --advertise-address, --skydns-path
	WithdrawWait                            time.Duration
}

// ParseAgentFlags checks every agent flag; the first bad one is the error.
func ParseAgentFlags(c *ucli.Context, metricsFlag string) (AgentSettings, error) {
	s := AgentSettings{
		Name: c.String("name"), DockerHost: c.String("docker"), StateDir: c.String("state-dir"),
		MetricsAddr: c.String(metricsFlag), LeaseTTL: c.Duration("lease-ttl"), Resync: c.Duration("resync-interval"),
		RestartDelay: c.Duration("restart-delay"), Fake: c.Bool("fake-runtime"),
		HealthCheckInterval: c.Duration("health-check-interval"), HealthCheckMax: c.Duration("health-check-max-interval"),
		FlappingRuns: c.Int("flapping-runs"), FlappingWindow: c.Duration("flapping-window"),
		FlappingRestartDelay: c.Duration("flapping-restart-delay"), AlwaysPull: c.Bool("always-pull"),
		ImageMissingRetry: c.Duration("image-missing-retry"), ImagePullRetry: c.Duration("image-pull-retry"),
		StartupJoinWait: c.Duration("startup-join-wait"),
		DockerConfig:    c.String("docker-config"),
		Pprof:           c.Bool("pprof"),
		WithdrawWait:    c.Duration("withdraw-wait"),
	}
	var err error
	if s.Name == "" {
		return s, errors.New("--name is required")
	}
	if err := model.ValidateHostName(s.Name); err != nil {
		return s, fmt.Errorf("--name: %w", err)
	}
	if s.Discovery, err = parseDiscoveryFlags(c); err != nil {
		return s, err
	}
	if s.Policy, err = ParsePolicy(c); err != nil {
		return s, err
	}
	if s.Labels, err = agent.ParseKeyValues(c.StringSlice("labels")); err != nil {
		return s, fmt.Errorf("--labels %w", err)
	}
	if s.Defaults.Env, err = agent.ParseKeyValues(c.StringSlice("env")); err != nil {
		return s, fmt.Errorf("--env %w", err)
	}
	if s.PortRange, err = agent.ParsePortRange(c.String("port-range")); err != nil {
		return s, fmt.Errorf("--port-range: %w", err)
	}
	for _, d := range c.StringSlice("dns") {
		a, err := agent.ParseDNS(d)
		if err != nil {
			return s, fmt.Errorf("--dns: %w", err)
		}
		s.Defaults.DNS = append(s.Defaults.DNS, a)
	}
	for _, b := range c.StringSlice("bind") {
		m, err := agent.ParseBind(b)
		if err != nil {
			return s, fmt.Errorf("--bind: %w", err)
		}
		s.Defaults.Binds = append(s.Defaults.Binds, m)
	}
	for _, h := range c.StringSlice("add-host") {
		e, err := agent.ParseAddHost(h)
		if err != nil {
			return s, fmt.Errorf("--add-host: %w", err)
		}
		s.Defaults.ExtraHosts = append(s.Defaults.ExtraHosts, e)
	}
	if v := c.String("syslog-redirect-to"); v != "" {
		if s.Defaults.SyslogRedirectTo, err = agent.ParseHostPort(v); err != nil {
			return s, fmt.Errorf("--syslog-redirect-to %w", err)
		}
	}
	if s.LeaseTTL < time.Second {
		return s, errors.New("--lease-ttl must be at least 1s")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"resync-interval", s.Resync}, {"restart-delay", s.RestartDelay}, {"health-check-interval", s.HealthCheckInterval},
		{"health-check-max-interval", s.HealthCheckMax}, {"flapping-window", s.FlappingWindow},
		{"flapping-restart-delay", s.FlappingRestartDelay}, {"image-missing-retry", s.ImageMissingRetry}, {"image-pull-retry", s.ImagePullRetry}, {"startup-join-wait", s.StartupJoinWait}, {"withdraw-wait", s.WithdrawWait}} {
		if d.v <= 0 {
			return s, fmt.Errorf("--%s must be positive", d.name)
		}
	}
	if s.HealthCheckMax < s.HealthCheckInterval {
		return s, errors.New("--health-check-max-interval must be at least --health-check-interval")
	}
	if s.FlappingRuns < 1 {
		return s, errors.New("--flapping-runs must be at least 1")
	}
	if s.Pprof && s.MetricsAddr == "" && metricsFlag == "metrics" {
		return s, errors.New("--pprof is served on the --metrics listener: give --metrics an address")
	}
	return s, nil
}

// RunAgent runs an agent over st until ctx ends, serving reg on s.MetricsAddr. ready (if
// not nil) is called once the agent is set up and about to run.
func RunAgent(ctx context.Context, s AgentSettings, st *store.Store, log *zap.Logger, reg *prometheus.Registry, out func(format string, args ...any), ready func()) error {
	var rt agent.Runtime
	portFree := func(string, int) bool { return true }
	if s.Fake {
		rt = fake.New()
	} else {
		d, err := docker.New(s.DockerHost, docker.WithDockerConfig(s.DockerConfig))
		if err != nil {
			return err
		}
		defer d.Close()
		rt, portFree = d, nil
	}
	// Endpoints are bound to the same lease as the up key: they vanish with the agent.
	var registrar *store.EndpointRegistrar
	var publisher agent.Registrar // a nil *EndpointRegistrar in it would not be nil
	if s.Discovery.Domain != "" {
		registrar = st.NewEndpointRegistrar(s.Name, s.Discovery.SkyDNSPath)
		publisher = registrar
	}
	a, err := agent.New(agent.Config{
		Name:    s.Name,
		Store:   st,
		Runtime: rt,
		KeepUp: func(ctx context.Context) error {
			return st.KeepLeased(ctx, s.LeaseTTL, log, func(ctx context.Context, lease store.LeaseID) error {
				if err := st.PutUp(ctx, s.Name, lease); err != nil {
					return err
				}
				if registrar != nil {
					return registrar.Attach(ctx, lease)
				}
				return nil
			})
		},
		Domain:                 s.Discovery.Domain,
		AdvertiseAddress:       s.Discovery.AdvertiseAddress,
		Registrar:              publisher,
		WithdrawWait:           s.WithdrawWait,
		WatchPrefix:            st.Keys().Host(s.Name),
		Labels:                 s.Labels,
		Defaults:               s.Defaults,
		PortRange:              s.PortRange,
		StateDir:               s.StateDir,
		ResyncInterval:         s.Resync,
		RestartDelay:           s.RestartDelay,
		HealthCheckInterval:    s.HealthCheckInterval,
		HealthCheckMaxInterval: s.HealthCheckMax,
		FlappingRuns:           s.FlappingRuns,
		FlappingWindow:         s.FlappingWindow,
		FlappingRestartDelay:   s.FlappingRestartDelay,
		AlwaysPull:             s.AlwaysPull,
		ImageMissingRetry:      s.ImageMissingRetry,
		ImagePullRetry:         s.ImagePullRetry,
		StartupJoinWait:        s.StartupJoinWait,
		Policy:                 &s.Policy,
		Version:                model.Version,
		Logger:                 log.Named("agent"),
		Registerer:             reg,
		PortFree:               portFree,
	})
	if err != nil {
		return err
	}
	if s.MetricsAddr != "" {
		l, err := net.Listen("tcp", s.MetricsAddr)
		if err != nil {
			return fmt.Errorf("agent metrics on %s: %w", s.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		if s.Pprof {
			controller.HandlePprof(mux)
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		defer srv.Close()
		out("helios agent %q: metrics on %s/metrics\n", s.Name, URL("http", l.Addr()))
	}
	if ready != nil {
		ready()
	}
	return a.Run(ctx)
}

// DefaultAgentName is the machine's host name.
func DefaultAgentName() string {
	h, _ := os.Hostname()
	return h
}
