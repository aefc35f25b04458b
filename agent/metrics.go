package agent

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the agent's own; registered on the registry given in Config.
type metrics struct {
	reconciles        *prometheus.CounterVec
	actions           *prometheus.CounterVec
	reconcileDuration prometheus.Histogram
	starts            prometheus.Counter
	exits             prometheus.Counter
	restarts          prometheus.Counter
	etcdErrors        prometheus.Counter
	watchRestarts     prometheus.Counter
	resyncs           prometheus.Counter
	healthChecks      *prometheus.CounterVec
	healthDuration    *prometheus.HistogramVec
	pulls             *prometheus.CounterVec
	throttled         *prometheus.GaugeVec
	containerLists    *prometheus.CounterVec
	eventsRestarts    prometheus.Counter
	// Restore guard (restore.go): 1 while etcd's generation is older than the agent's;
	// the actions the last full pass held back.
	restoreSuspected, restoreHeld prometheus.Gauge
	// Service discovery: tasks whose endpoints were published, withdrawn.
	endpointsPublished, endpointsWithdrawn prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_agent_reconcile_total", Help: "Reconcile passes, by result (ok, error).",
		}, []string{"result"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_agent_actions_total", Help: "Actions the plan chose, by action and reason (a wait counts at each pass it defers a job).",
		}, []string{"action", "reason"}),
		reconcileDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "helios_agent_reconcile_duration_seconds", Help: "Duration of one reconcile pass (planning and dispatch).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		starts:        prometheus.NewCounter(prometheus.CounterOpts{Name: "helios_agent_container_starts_total", Help: "Containers started."}),
		exits:         prometheus.NewCounter(prometheus.CounterOpts{Name: "helios_agent_container_exits_total", Help: "Containers seen exiting."}),
		restarts:      prometheus.NewCounter(prometheus.CounterOpts{Name: "helios_agent_container_restarts_total", Help: "Exited containers replaced by a new one."}),
		etcdErrors:    prometheus.NewCounter(prometheus.CounterOpts{Name: "helios_agent_etcd_errors_total", Help: "Failed etcd reads and writes of the agent."}),
		resyncs:       prometheus.NewCounter(prometheus.CounterOpts{Name: "helios_agent_resyncs_total", Help: "Periodic resyncs done (reassert, then a full reconcile pass)."}),
		watchRestarts: prometheus.NewCounter(prometheus.CounterOpts{Name: "helios_agent_watch_restarts_total", Help: "Times the watch on the host's keys listed again (compaction, lost leader, reconnect)."}),
		healthChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_agent_health_checks_total", Help: "Health checks run, by type (http, tcp, exec) and result (pass, fail).",
		}, []string{"type", "result"}),
		healthDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "helios_agent_health_check_duration_seconds", Help: "Duration of one health check, by type.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"type"}),
		pulls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_agent_image_pulls_total", Help: "Image pulls, by result (ok, missing, failed).",
		}, []string{"result"}),
		throttled: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "helios_agent_throttled_tasks", Help: "Tasks held back now, by throttle state (FLAPPING, IMAGE_MISSING, IMAGE_PULL_FAILED).",
		}, []string{"state"}),
		containerLists: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_agent_container_lists_total", Help: "Container listings of reconcile passes, by scope (host: all of the host's containers, job: one job's).",
		}, []string{"scope"}),
		endpointsPublished: prometheus.NewCounter(prometheus.CounterOpts{Name: "helios_agent_endpoints_published_total", Help: "Times the agent published a healthy task's endpoints for service discovery."}),
		endpointsWithdrawn: prometheus.NewCounter(prometheus.CounterOpts{Name: "helios_agent_endpoints_withdrawn_total", Help: "Times the agent withdrew a task's endpoints (before a stop, or after an exit)."}),
		eventsRestarts:     prometheus.NewCounter(prometheus.CounterOpts{Name: "helios_agent_events_restarts_total", Help: "Times the engine's events stream broke and was subscribed again (followed by a full pass)."}),
		restoreSuspected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "helios_agent_restore_suspected",
			Help: "1 while etcd holds an older desired-state generation of this host than the agent acted on (an etcd snapshot restore): the agent stops, removes and replaces no container until an operator runs helios accept-restore.",
		}),
		restoreHeld: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "helios_agent_restore_held_actions", Help: "Actions the last full reconcile pass held back because a restore is suspected.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	// Several agents in one process (hollow agents) share one registry: adopt what is there.
	m.reconciles, err = register(reg, m.reconciles)
	if err != nil {
		return nil, err
	}
	if m.actions, err = register(reg, m.actions); err != nil {
		return nil, err
	}
	m.reconcileDuration, err = register(reg, m.reconcileDuration)
	if err != nil {
		return nil, err
	}
	if m.healthChecks, err = register(reg, m.healthChecks); err != nil {
		return nil, err
	}
	if m.healthDuration, err = register(reg, m.healthDuration); err != nil {
		return nil, err
	}
	if m.pulls, err = register(reg, m.pulls); err != nil {
		return nil, err
	}
	if m.throttled, err = register(reg, m.throttled); err != nil {
		return nil, err
	}
	if m.containerLists, err = register(reg, m.containerLists); err != nil {
		return nil, err
	}
	for _, g := range []*prometheus.Gauge{&m.restoreSuspected, &m.restoreHeld} {
		if *g, err = register(reg, *g); err != nil {
			return nil, err
		}
	}
	for _, c := range []*prometheus.Counter{&m.starts, &m.exits, &m.restarts, &m.etcdErrors, &m.watchRestarts, &m.resyncs, &m.eventsRestarts, &m.endpointsPublished, &m.endpointsWithdrawn} {
		if *c, err = register(reg, *c); err != nil {
			return nil, err
		}
	}
	m.initLabels()
	return m, nil
}

// initLabels creates every known label set at zero, as Prometheus advises: a series that
// appears only with its first event is invisible to rate() and to alert rules until then.
func (m *metrics) initLabels() {
	for _, r := range []string{"ok", "error"} {
		m.reconciles.WithLabelValues(r)
	}
	for r, kind := range reasonKinds {
		m.actions.WithLabelValues(string(kind), string(r))
	}
	for _, typ := range []string{"http", "tcp", "exec"} {
		m.healthDuration.WithLabelValues(typ)
		for _, r := range []string{"pass", "fail"} {
			m.healthChecks.WithLabelValues(typ, r)
		}
	}
	for _, r := range []string{"ok", "missing", "failed"} {
		m.pulls.WithLabelValues(r)
	}
	for _, sc := range []string{"host", "job"} {
		m.containerLists.WithLabelValues(sc)
	}
	for _, st := range []string{"FLAPPING", "IMAGE_MISSING", "IMAGE_PULL_FAILED"} {
		m.throttled.WithLabelValues(st)
	}
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("register agent metrics: %w", err)
	}
	return c, nil
}
