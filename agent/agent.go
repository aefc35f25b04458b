package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Config configures an Agent. Name, Store and Runtime are required.
type Config struct {
	Name    string  // host name, as registered
	Store   Store   // required
	Runtime Runtime // required
	// KeepUp keeps the host's lease-bound up key alive until ctx ends (wired by the caller
	// to store.KeepLeased + PutUp, as only store speaks etcd). nil: no up key.
	KeepUp func(ctx context.Context) error
	// WatchPrefix is the key prefix of this host's deployments (store Keys().Host(name)).
	WatchPrefix string
	Labels      map[string]string
	Defaults    HostDefaults // --env, --dns, --bind, --add-host, --syslog-redirect-to
	PortRange   PortRange    // default 20000:32768
	StateDir    string       // default DefaultStateDir(name)
	// Policy is checked again here, before anything runs, whatever the master let through
	// (an older master, a job written to etcd by hand); host paths are resolved through
	// symlinks, and the state dir is denied too. nil: model.DefaultJobPolicy.
	Policy *model.JobPolicy
	// ResyncInterval bounds how long a missed event can go unnoticed (default 30s);
	// RestartDelay is the pause before an exited container is replaced (default 1s).
	ResyncInterval time.Duration
	RestartDelay   time.Duration
	// Health checks run every HealthCheckInterval at first, the interval doubling up to
	// HealthCheckMaxInterval (defaults 1s, 30s).
	HealthCheckInterval    time.Duration
	HealthCheckMaxInterval time.Duration
	// A task whose last FlappingRuns runs lasted less than FlappingWindow in total is
	// FLAPPING: restarted only after FlappingRestartDelay (defaults 10, 60s, 30s).
	FlappingRuns         int
	FlappingWindow       time.Duration
	FlappingRestartDelay time.Duration
	// AlwaysPull pulls the image before every container creation, not only when missing.
	AlwaysPull bool
	// A start whose image the registry does not have is retried after ImageMissingRetry;
	// after any other pull failure, after ImagePullRetry (defaults 2m, 2m).
	ImageMissingRetry time.Duration
	ImagePullRetry    time.Duration
	// StartupJoinWait is how long a restarting agent waits for etcd before it manages its
	// containers from the deployments kept in the state dir (default 10s).
	StartupJoinWait time.Duration
	Version         string
	Logger          *zap.Logger
	Registerer      prometheus.Registerer
	// Service discovery (docs/discovery.md): with a Domain and a Registrar, the endpoints of
	// healthy tasks are published, at AdvertiseAddress (required then). WithdrawWait bounds
	// the wait for DNS to drop a stopping task's records when its job has no gracePeriod
	// (default 5s).
	Domain           string
	AdvertiseAddress string
	Registrar        Registrar
	WithdrawWait     time.Duration
	// PortFree tells whether a host port is free; default: try to bind it. Hollow agents
	// (fake runtime) pass a func that always says yes.
	PortFree func(proto string, port int) bool
}

// Agent reconciles one host's containers against its deployments in etcd.
type Agent struct {
	cfg     Config
	log     *zap.Logger
	m       *metrics
	ports   *portAllocator
	started time.Time

	wakes *wakeSet                // what the next pass covers (wake.go)
	queue *workQueue[model.JobID] // jobs with actions for their worker (worker.go)
	// Failures in a row of the loop's own reads (only the loop touches them) and of the
	// queued status writes (only the one flush at a time, background.go).
	passFailures, flushFailures int
	// resyncing: the resync's etcd work runs (background.go); resyncDone: it finished and
	// the loop has not counted it yet.
	resyncing, resyncDone atomic.Bool
	id                    *identity // cluster id and container record; set by Run
	// writeCtx is Run's: status writers (writer.go) outlive the action or health check that
	// set the status, so they cannot use its context.
	writeCtx context.Context

	infoMu sync.Mutex // guards engine and hostInfo

	mu              sync.Mutex
	tasks           map[model.JobID]*task       // one per job this agent knows of (task.go)
	actual          map[string]Container        // the host's containers as last listed, by id (reconcile.go)
	cache           *desiredCache               // the host's deployments and their jobs, fed by the watch (desired.go)
	guard           *restoreGuard               // set by Run: the generation acted on (restore.go)
	report          restoreReport               // the suspected restore as reported in etcd (restorereport.go)
	lastDesired     map[model.JobID]desiredTask // last deployments read, for etcd outages
	throttleCount   map[model.ThrottleState]int // this agent's share of the gauge
	pending         []pendingOp                 // status writes waiting for etcd, oldest first (outage.go)
	pendingSeq      uint64                      // last seq given to a queued write
	pendingGen      uint64                      // changes of pending, to save it only when changed
	pendingDropped  map[model.JobID]int         // writes dropped per task since the queue was last empty
	pendingSavedGen uint64                      // pendingGen as last saved to the state dir; guarded by pendingFileMu too
	pendingFileMu   sync.Mutex                  // serialises saves of the queue (outagequeue.go)
	flushing        bool                        // a flush of pending runs (background.go)
	savedDesired    string                      // deployments as last written to the state dir
	desiredNext     *diskState                  // deployments waiting for the state dir's writer
	desiredSaving   bool                        // the state dir's writer runs (saveDesiredLoop)
	hostInfo        model.HostInfo              // last written
	engine          EngineInfo
	wg              sync.WaitGroup // workers and watchers
}

// New checks cfg and fills defaults.
func New(cfg Config) (*Agent, error) {
	if cfg.Name == "" || cfg.Store == nil || cfg.Runtime == nil {
		return nil, errors.New("agent: Name, Store and Runtime are required")
	}
	if err := store.ValidName("host", cfg.Name); err != nil {
		return nil, err
	}
	if cfg.PortRange == (PortRange{}) {
		cfg.PortRange = PortRange{20000, 32768}
	}
	if cfg.PortRange.Start <= 0 || cfg.PortRange.End <= cfg.PortRange.Start || cfg.PortRange.End > 65536 {
		return nil, fmt.Errorf("agent: bad port range %d:%d", cfg.PortRange.Start, cfg.PortRange.End)
	}
	if cfg.StateDir == "" {
		cfg.StateDir = DefaultStateDir(cfg.Name)
	}
	if cfg.WatchPrefix == "" {
		cfg.WatchPrefix = store.NewKeys("").Host(cfg.Name)
	}
	policy := model.DefaultJobPolicy()
	if cfg.Policy != nil {
		policy = *cfg.Policy
	}
	if abs, err := filepath.Abs(cfg.StateDir); err == nil && len(policy.AllowedHostPaths) == 0 {
		policy.DeniedHostPaths = append(slices.Clone(policy.DeniedHostPaths), abs)
	}
	cfg.Policy = &policy
	if cfg.ResyncInterval <= 0 {
		cfg.ResyncInterval = 30 * time.Second
	}
	if cfg.RestartDelay <= 0 {
		cfg.RestartDelay = time.Second
	}
	setDefault(&cfg.StartupJoinWait, 10*time.Second)
	setDefault(&cfg.HealthCheckInterval, time.Second)
	setDefault(&cfg.HealthCheckMaxInterval, 30*time.Second)
	cfg.HealthCheckMaxInterval = max(cfg.HealthCheckMaxInterval, cfg.HealthCheckInterval)
	if cfg.FlappingRuns <= 0 {
		cfg.FlappingRuns = 10
	}
	setDefault(&cfg.FlappingWindow, 60*time.Second)
	setDefault(&cfg.FlappingRestartDelay, 30*time.Second)
	setDefault(&cfg.ImageMissingRetry, 2*time.Minute)
	setDefault(&cfg.ImagePullRetry, 2*time.Minute)
	setDefault(&cfg.WithdrawWait, 5*time.Second)
	if cfg.Domain != "" && cfg.Registrar != nil && cfg.AdvertiseAddress == "" {
		return nil, errors.New("agent: a domain needs an advertise address")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	a := &Agent{
		cfg:           cfg,
		log:           cfg.Logger.With(zap.String("host", cfg.Name)),
		m:             m,
		ports:         newPortAllocator(cfg.PortRange, cfg.PortFree),
		wakes:         newWakeSet(),
		actual:        map[string]Container{},
		queue:         newWorkQueue[model.JobID](),
		tasks:         map[model.JobID]*task{},
		throttleCount: map[model.ThrottleState]int{},
	}
	a.cache = newDesiredCache(cfg.WatchPrefix, a.cachedJob) // it hashes jobs with the agent's spec
	return a, nil
}

// Run registers the host and reconciles until ctx ends. It returns an error only when the
// agent cannot start (state dir taken, host id conflict, runtime unreachable); once running,
// failures are logged and retried.
func (a *Agent) Run(ctx context.Context) error {
	a.started = time.Now()
	if a.cfg.Domain == "" || a.cfg.Registrar == nil {
		a.log.Info("service registration off: no --domain")
	} else {
		a.log.Info("service registration on", zap.String("domain", a.cfg.Domain), zap.String("advertise-address", a.cfg.AdvertiseAddress))
	}
	sd, err := openStateDir(a.cfg.StateDir)
	if err != nil {
		return err
	}
	defer sd.close()
	id, err := sd.hostID()
	if err != nil {
		return err
	}
	if a.id, err = loadIdentity(a.cfg.StateDir); err != nil {
		return err
	}
	if a.guard, err = loadRestoreGuard(a.cfg.StateDir); err != nil {
		return err
	}
	// The deployments kept on disk serve until etcd answers (an outage at start-up).
	if deps, jobs, err := loadDesired(a.cfg.StateDir); err != nil {
		a.log.Warn("deployments kept in the state dir unreadable", zap.Error(err))
	} else if deps != nil {
		a.lastDesired = a.toDesired(deps, jobs)
	}
	a.loadPendingQueue()
	engine, err := a.cfg.Runtime.Info(ctx)
	if err != nil {
		return fmt.Errorf("container runtime: %w", err)
	}
	a.engine = engine

	ctx, cancel := context.WithCancel(ctx)
	a.writeCtx = ctx
	defer func() {
		cancel()
		a.wg.Wait()
		a.mu.Lock()
		a.setThrottleGauge(nil) // this agent's tasks no longer count
		a.mu.Unlock()
	}()

	// Joining etcd (registration, labels, statuses) normally takes a moment. When etcd is
	// down at start-up and the state dir remembers this host's deployments, the agent does
	// not wait for it: it goes on managing its containers from disk and joins when etcd is
	// back. A host it has never run on has nothing to manage, so it waits; so does an agent
	// that does not know its cluster id yet (first run of this version), as it could not
	// tell its containers from another cluster's.
	joined := make(chan error, 1)
	a.goFunc(func() { joined <- a.join(ctx, id) })
	if a.lastDesired == nil || a.id.Cluster() == "" {
		if err := <-joined; err != nil {
			return err
		}
		joined = nil
	} else {
		select {
		case err := <-joined:
			if err != nil {
				return err
			}
			joined = nil
		case <-time.After(a.cfg.StartupJoinWait):
			a.log.Warn("etcd not reachable; managing containers from the state dir until it is")
		}
	}

	a.goFunc(func() { a.work(ctx) })
	// Subscribed before the first pass, so no container change after its listing is missed.
	evs, errs := a.cfg.Runtime.Events(ctx, map[string]string{LabelHost: a.cfg.Name})
	a.goFunc(func() { a.followEvents(ctx, evs, errs) })
	resync := time.NewTicker(a.cfg.ResyncInterval)
	defer resync.Stop()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	a.wakes.everything()
	for {
		// Taken before the wakes: the resync's own wake is set before it says it is done,
		// so the pass below (or one before it) came after the resync's reads.
		resynced := a.resyncDone.Swap(false)
		all, jobs, next := a.wakes.take(time.Now())
		if all || len(jobs) > 0 {
			a.reconcile(ctx, all, jobs)
			// The pass may have set timers: take them into account.
			_, _, next = a.wakes.peek(time.Now())
		}
		if next > 0 {
			timer.Reset(next)
		}
		if resynced {
			// Counted once the pass is done: a test that waits for this count to grow knows
			// a whole resync happened meanwhile (its "nothing happened" marker).
			a.m.resyncs.Inc()
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-joined:
			if err != nil && ctx.Err() == nil {
				return err
			}
			joined = nil // a join cut short by the end of ctx is no failure
		case <-a.wakes.poke:
		case <-timer.C:
		case <-resync.C:
			// The containers are listed again at once; etcd's part runs on its own, so a
			// stalled etcd never holds up a local restart.
			a.startResync(ctx, id, joined == nil)
			a.wakes.everything()
		}
		timer.Stop()
	}
}

// engineInfo is what the container runtime last said of itself.
func (a *Agent) engineInfo() EngineInfo {
	a.infoMu.Lock()
	defer a.infoMu.Unlock()
	return a.engine
}

// join learns the cluster id, registers the host in etcd, writes its labels and environment, learns what it last
// reported, and then keeps the host UP and watches its deployments.
func (a *Agent) join(ctx context.Context, id string) error {
	var cluster string
	proposal := a.id.proposal()
	if err := retry(ctx, a, "read cluster id", func() (err error) {
		cluster, err = a.cfg.Store.EnsureClusterUID(ctx, proposal)
		return err
	}); err != nil {
		return err
	}
	replaced, err := a.id.setCluster(cluster)
	if err != nil {
		return err
	}
	if replaced != "" {
		// etcd was replaced or restored from a backup older than the id: the containers made
		// under the old id stay this agent's through the state dir's record.
		a.log.Warn("cluster id in etcd differs from the one in the state dir; using etcd's",
			zap.String("cluster-id", cluster), zap.String("old-cluster-id", replaced))
	}
	if err := retry(ctx, a, "register host", func() error { return a.cfg.Store.RegisterHost(ctx, a.cfg.Name, id) }); err != nil {
		return err
	}
	a.log.Info("host registered", zap.String("host-id", id), zap.String("docker-version", a.engineInfo().Version))
	if err := retry(ctx, a, "write host labels", func() error { return a.cfg.Store.PutHostLabels(ctx, a.cfg.Name, nonNil(a.cfg.Labels)) }); err != nil {
		return err
	}
	if err := retry(ctx, a, "write host environment", func() error {
		return a.cfg.Store.PutHostEnvironment(ctx, a.cfg.Name, nonNil(a.cfg.Defaults.Env))
	}); err != nil {
		return err
	}
	a.refreshHostInfo(ctx, true)
	var statuses map[model.JobID]model.TaskStatus
	if err := retry(ctx, a, "read task statuses", func() (err error) {
		statuses, err = a.cfg.Store.TaskStatuses(ctx, a.cfg.Name)
		return err
	}); err != nil {
		return err
	}
	a.mu.Lock()
	for job, st := range statuses {
		// What the agent reported since it started (queued during an outage) is newer.
		if t := a.taskLocked(job); t.reported == nil {
			t.reported = &st
		}
	}
	a.mu.Unlock()

	if a.cfg.KeepUp != nil {
		a.goFunc(func() {
			if err := a.cfg.KeepUp(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("keeping the host up stopped", zap.Error(err))
			}
		})
	}
	a.goFunc(func() { a.watch(ctx) })
	a.trigger()
	return nil
}

// watch keeps the desired-state cache and wakes the job of every deployment that changes;
// a (re-)list wakes everything, since events may have been missed.
func (a *Agent) watch(ctx context.Context) {
	lists := 0
	_ = a.cfg.Store.WatchPrefix(ctx, a.cfg.WatchPrefix,
		func(kvs []store.KV, rev int64) {
			if lists++; lists > 1 {
				a.m.watchRestarts.Inc()
			}
			a.cache.reset(kvs, rev)
			a.trigger()
		},
		func(evs []store.Event) {
			// Other keys (port reservations) do not change what runs; the generation
			// and the host id may (restore.go), and a pass of every job reads them.
			gen, _ := a.cache.generation()
			for _, id := range a.cache.apply(evs) {
				a.wakes.job(id)
			}
			if now, _ := a.cache.generation(); now != gen {
				a.trigger()
			}
		})
}

// relist reads the host's deployments from etcd again (at each resync: never trust a watch
// alone). The jobs come with them, so jobs the cache lacks need no read of their own.
func (a *Agent) relist(ctx context.Context) {
	deps, jobs, rev, err := a.cfg.Store.HostDeployments(ctx, a.cfg.Name)
	if err != nil {
		a.m.etcdErrors.Inc()
		a.log.Debug("list deployments at resync", zap.Error(err)) // the watch retries and warns
		return
	}
	// Read after the deployments and recorded before them: a restore in between shows as
	// an older generation, never as restored deployments under the generation of before.
	g, err := a.cfg.Store.HostGeneration(ctx, a.cfg.Name)
	if err != nil {
		a.m.etcdErrors.Inc()
		a.log.Debug("read generation at resync", zap.Error(err))
		return
	}
	a.cache.setGeneration(generation{modRev: g.ModRevision, registered: g.Registered, accepted: g.Accepted}, g.Rev)
	cached := make(map[model.JobID]cachedDeployment, len(deps))
	for id, d := range deps {
		cached[id] = cachedDeployment{dep: d, modRev: rev}
	}
	read := make(map[model.JobID]cachedJob, len(jobs))
	for id, j := range jobs {
		read[id] = a.cachedJob(&j)
	}
	a.cache.replace(cached, read, rev)
}

// cachedJob is a job with its wanted spec hash, computed once.
func (a *Agent) cachedJob(j *model.Job) cachedJob {
	return cachedJob{job: j, specHash: specHash(a.spec(j, nil), j)}
}

// trigger asks for a pass over everything; triggers coalesce.
func (a *Agent) trigger() { a.wakes.everything() }

func (a *Agent) goFunc(f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

// retry calls f until it succeeds, backing off while etcd is unavailable; other errors
// (a host id conflict) end it.
func retry(ctx context.Context, a *Agent, what string, f func() error) error {
	backoff := 100 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrUnavailable) {
			return fmt.Errorf("%s: %w", what, err)
		}
		a.m.etcdErrors.Inc()
		a.log.Warn("etcd unavailable, retrying", zap.String("op", what), zap.Error(err))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// refreshHostInfo writes HostInfo when it changed (or always when force). The join and the
// loop's resync may call it at once: infoMu serializes them.
func (a *Agent) refreshHostInfo(ctx context.Context, force bool) {
	a.infoMu.Lock()
	defer a.infoMu.Unlock()
	if e, err := a.cfg.Runtime.Info(ctx); err == nil {
		a.engine = e
	}
	hi := collectHostInfo(a.engine)
	if !force && !hostInfoChanged(a.hostInfo, hi) {
		return
	}
	now := time.Now()
	ai := model.AgentInfo{Name: a.cfg.Name, Version: a.cfg.Version, StartTime: a.started.UnixMilli(), Uptime: now.Sub(a.started).Milliseconds()}
	if err := a.cfg.Store.PutHostInfo(ctx, a.cfg.Name, hi, ai); err != nil {
		a.m.etcdErrors.Inc()
		a.log.Warn("write host info", zap.Error(err))
		return
	}
	a.hostInfo = hi
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// DefaultStateDir is where an agent keeps its state unless told: a root-owned
// /var/lib/helios/agent-<name> when it runs as root (as it does to reach Docker), else
// ~/.helios/agent-<name>; never a world-writable /tmp, since it holds jobs' environments.
func DefaultStateDir(name string) string {
	if os.Geteuid() == 0 {
		return filepath.Join("/var/lib/helios", "agent-"+sanitize(name))
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".helios", "agent-"+sanitize(name))
	}
	return filepath.Join(os.TempDir(), "helios-agent-"+sanitize(name))
}
