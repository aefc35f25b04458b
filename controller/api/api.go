package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/helios-go/helios/controller/ui"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// Store is the part of *store.Store the API uses. It is declared here, by its consumer, so
// tests and the master see exactly what the API touches.
type Store interface {
	CreateJob(ctx context.Context, job model.Job) error
	GetJob(ctx context.Context, id model.JobID) (*model.Job, error)
	ListJobsPage(ctx context.Context, q store.JobsQuery) (store.JobsPage, error)
	DeployedJobs(ctx context.Context, hostMatch func(string) bool) (map[model.JobID]bool, error)
	RemoveJob(ctx context.Context, id model.JobID, token string) error

	RegisterHost(ctx context.Context, host, id string) error
	DeregisterHost(ctx context.Context, host string, allowUp bool) error
	AcceptRestore(ctx context.Context, host string) (*model.RestoreSuspicion, error)
	ListHosts(ctx context.Context) ([]string, error)
	ListHostsPage(ctx context.Context, after string, limit int, match func(string) bool) (store.HostsPage, error)
	HostLabels(ctx context.Context, hosts []string) (map[string]map[string]string, error)
	HostStatus(ctx context.Context, host string) (*model.HostStatus, error)
	HostStatuses(ctx context.Context, hosts []string) (map[string]model.HostStatus, error)

	Deploy(ctx context.Context, host string, dep model.Deployment, token string) error
	Undeploy(ctx context.Context, host string, id model.JobID, token string) error
	SetGoal(ctx context.Context, host string, id model.JobID, goal model.Goal, token string) error
	GetDeployment(ctx context.Context, host string, id model.JobID) (*model.Deployment, error)
	JobStatus(ctx context.Context, id model.JobID) (*model.JobStatus, error)
	JobStatusesJSON(ctx context.Context, ids []model.JobID, omit store.JobStatusParts) (map[model.JobID]*store.JobStatusJSON, error)
	History(ctx context.Context, id model.JobID) ([]model.TaskStatusEvent, error)

	ListMasters(ctx context.Context) ([]model.MasterInfo, error)

	CreateDeploymentGroup(ctx context.Context, g model.DeploymentGroup) (string, error)
	GetDeploymentGroup(ctx context.Context, name string) (*model.DeploymentGroup, error)
	ListDeploymentGroups(ctx context.Context) ([]string, error)
	RemoveDeploymentGroup(ctx context.Context, name string) error
	RollingUpdate(ctx context.Context, name string, id model.JobID, req *model.RolloutOptions, nowMs int64) error
	StopDeploymentGroup(ctx context.Context, name string, nowMs int64) error
	PromoteDeploymentGroup(ctx context.Context, name string, nowMs int64) error
	DeploymentGroupStatus(ctx context.Context, name string) (*model.DeploymentGroupStatusResponse, error)
	// For GET /deployment-group/{name}/watch: wakes when the group or its hosts change.
	PokeDeploymentGroup(ctx context.Context, name string) <-chan struct{}

	// For GET /jobs/{id}/watch: the job's history, listed then watched.
	WatchJobHistory(ctx context.Context, id model.JobID, onReset func([]store.HistoryRecord), onEvents func([]store.HistoryRecord)) error
}

// Config configures the API handler.
type Config struct {
	Store      Store                 // required
	Logger     *zap.Logger           // nil: no logs
	Registerer prometheus.Registerer // metrics of the API; nil: none
	Gatherer   prometheus.Gatherer   // if set, GET /metrics serves it
	// MetricsAuth puts GET /metrics behind the reader role when authentication is on
	// (--metrics-auth); by default it stays open, as Prometheus expects.
	MetricsAuth bool
	// Events is the master's cluster event stream (GET /events); nil: 503.
	Events              *Events
	Version             string           // Helios-Server-Version header and GET /version
	MasterName          string           // recorded as Deployment.deployerMaster
	CapabilityWhitelist []string         // addCapabilities a job may ask for (default none)
	JobPolicy           *model.JobPolicy // what jobs may ask of hosts; nil: model.DefaultJobPolicy
	// Authentication: bearer tokens (from --auth-token-file) and, with ClientCertAuth,
	// verified client certificates. Either turns it on; every route then needs a role.
	Tokens         map[string]model.Principal
	ClientCertAuth bool
	// LoopbackOnly: the master listens on loopback only, so only loopback Host names are
	// answered (a DNS-rebinding page cannot reach it).
	LoopbackOnly bool
	MaxBodyBytes int64 // request body limit, default 1 MiB
	// Watch streams: at most MaxStreams open, MaxStreamsPerClient from one address (429
	// beyond), and a client that does not take a line within StreamWriteTimeout is cut off.
	MaxStreams          int
	MaxStreamsPerClient int
	StreamWriteTimeout  time.Duration
	// RequestDeadline bounds how long one request (not a stream) may take, all its etcd
	// calls together: past it the answer is 504 (default 30s).
	RequestDeadline time.Duration
	Now             func() time.Time // default time.Now
	heartbeat       time.Duration    // blank line on idle watch streams; default DefaultHeartbeat (tests shorten it)
}

// DefaultRequestDeadline bounds one request's handling when Config.RequestDeadline is 0.
const DefaultRequestDeadline = 30 * time.Second

// DefaultMaxBodyBytes bounds request bodies when Config.MaxBodyBytes is 0. Job definitions
// are a few KiB; a MiB leaves room for bulk status requests naming thousands of hosts.
const DefaultMaxBodyBytes = 1 << 20

// server holds what every handler needs.
type server struct {
	cfg     Config
	store   Store
	log     *zap.Logger
	now     func() time.Time
	metrics *metrics
	mux     *http.ServeMux
	routes  map[string]bool // registered patterns: the only values the route label takes
	streams map[string]bool // patterns answering with a long-lived stream: no duration histogram

	heartbeat time.Duration

	streamLimits *streamLimiter

	shutdownMu sync.Mutex
	shutdowns  map[*http.Server]chan struct{} // closed when that server shuts down
}

// New builds the master's HTTP handler.
func New(cfg Config) (http.Handler, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(s.serveHTTP), nil
}

func newServer(cfg Config) (*server, error) {
	if cfg.Store == nil {
		return nil, errors.New("api: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.JobPolicy == nil {
		p := model.DefaultJobPolicy()
		cfg.JobPolicy = &p
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	if cfg.MaxStreamsPerClient <= 0 {
		cfg.MaxStreamsPerClient = DefaultMaxStreamsPerClient
	}
	if cfg.RequestDeadline <= 0 {
		cfg.RequestDeadline = DefaultRequestDeadline
	}
	if cfg.StreamWriteTimeout <= 0 {
		cfg.StreamWriteTimeout = DefaultStreamWriteTimeout
	}
	if cfg.heartbeat <= 0 {
		cfg.heartbeat = DefaultHeartbeat
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	if cfg.Events != nil && cfg.Registerer != nil {
		for _, c := range cfg.Events.m.collectors() {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("api: register event stream metrics: %w", err)
			}
		}
	}
	s := &server{
		cfg:     cfg,
		store:   cfg.Store,
		log:     cfg.Logger,
		now:     cfg.Now,
		metrics: m,
		mux:     http.NewServeMux(),
		routes:  map[string]bool{},
		streams: map[string]bool{},

		heartbeat:    cfg.heartbeat,
		streamLimits: newStreamLimiter(cfg.MaxStreams, cfg.MaxStreamsPerClient),
		shutdowns:    map[*http.Server]chan struct{}{},
	}

	s.handle("GET /jobs", s.listJobs)
	s.handle("POST /jobs", s.createJob)
	s.handle("GET /jobs/{id}", s.getJob)
	s.handle("DELETE /jobs/{id}", s.removeJob)
	s.handle("GET /jobs/{id}/status", s.jobStatus)
	s.handle("POST /jobs/statuses", s.jobStatuses)
	s.handle("GET /history/jobs/{id}", s.jobHistory)
	s.handleStream("GET /jobs/{id}/watch", s.watchJob)

	s.handle("GET /hosts", s.listHosts)
	s.handle("PUT /hosts/{host}", s.registerHost)
	s.handle("DELETE /hosts/{host}", s.deregisterHost)
	s.handle("GET /hosts/{host}/status", s.hostStatus)
	s.handle("POST /hosts/{host}/accept-restore", s.acceptRestore)
	s.handle("POST /hosts/statuses", s.hostStatuses)
	s.handle("PUT /hosts/{host}/jobs/{id}", s.deploy)
	s.handle("DELETE /hosts/{host}/jobs/{id}", s.undeploy)
	s.handle("PATCH /hosts/{host}/jobs/{id}", s.setGoal)
	s.handle("GET /hosts/{host}/jobs/{id}", s.getDeployment)

	s.handle("POST /deployment-group", s.createGroup)
	s.handle("POST /deployment-group/{$}", s.createGroup)
	s.handle("GET /deployment-group", s.listGroups)
	s.handle("GET /deployment-group/{$}", s.listGroups)
	s.handle("GET /deployment-group/{name}", s.getGroup)
	s.handle("DELETE /deployment-group/{name}", s.removeGroup)
	s.handle("POST /deployment-group/{name}/rolling-update", s.rollingUpdate)
	s.handle("POST /deployment-group/{name}/stop", s.stopGroup)
	s.handle("POST /deployment-group/{name}/promote", s.promoteGroup)
	s.handle("GET /deployment-group/{name}/status", s.groupStatus)
	s.handleStream("GET /deployment-group/{name}/watch", s.watchGroup)

	s.handleStream("GET /events", s.clusterEvents)
	s.handle("GET /masters", s.listMasters)
	s.handle("GET /version", s.version)
	s.handle("GET /auth/whoami", s.whoami)
	s.handle(uiRoute, ui.Handler().ServeHTTP)
	if cfg.Gatherer != nil {
		s.routes["GET /metrics"] = true
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
		s.metrics.initRoute("GET /metrics", http.MethodGet, false)
	}
	return s, nil
}

func (s *server) handle(pattern string, h http.HandlerFunc) {
	s.routes[pattern] = true
	s.mux.HandleFunc(pattern, h)
	method, _, _ := strings.Cut(pattern, " ")
	s.metrics.initRoute(pattern, methodLabel(method), s.streams[pattern])
}

// handleStream registers a route whose answer lasts as long as the client listens: its
// requests are counted, but its durations would only spoil the latency histogram.
func (s *server) handleStream(pattern string, h http.HandlerFunc) {
	s.streams[pattern] = true
	s.handle(pattern, h)
}
