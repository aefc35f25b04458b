package controller

import (
	"github.com/helios-go/helios/model"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the controller's leader loops.
type metrics struct {
	leader          prometheus.Gauge
	rolloutsStarted *prometheus.CounterVec
	rolloutsEnded   *prometheus.CounterVec
	stepDuration    *prometheus.HistogramVec
	memberChanges   prometheus.Counter
}

// Label values of helios_rollouts_finished_total{result}.
const (
	resultDone       = "done"
	resultFailed     = "failed"
	resultRolledBack = "rolled_back"
	resultPaused     = "paused"
)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "helios_controller_leader",
			Help: "1 while this master leads the controller (runs rollouts, membership and reapers), else 0.",
		}),
		rolloutsStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_rollouts_started_total",
			Help: "Rollouts of deployment groups this master's leader loop began carrying out, by reason (MANUAL, HOSTS_CHANGED).",
		}, []string{"reason"}),
		rolloutsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "helios_rollouts_finished_total",
			Help: "Rollouts this master's leader loop saw end, by result (done, failed, rolled_back, paused).",
		}, []string{"result"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "helios_rollout_step_duration_seconds",
			Help:    "Time from a rollout task becoming current to its completion, by action.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 9), // 5 ms .. 5.5 min
		}, []string{"action"}),
		memberChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "helios_deployment_group_membership_changes_total",
			Help: "Changes of a deployment group's member hosts written by the leader.",
		}),
	}
	// Every known label set starts at zero, so alert rules see the series from the start.
	for _, r := range []model.RollingUpdateReason{model.ReasonManual, model.ReasonHostsChanged} {
		m.rolloutsStarted.WithLabelValues(string(r))
	}
	for _, r := range []string{resultDone, resultFailed, resultRolledBack, resultPaused} {
		m.rolloutsEnded.WithLabelValues(r)
	}
	for _, a := range []model.RolloutAction{model.ActionUndeployOldJobs, model.ActionDeployNewJob, model.ActionAwaitRunning,
		model.ActionForceUndeployJobs, model.ActionAwaitUndeployed, model.ActionMarkUndeployed,
		model.ActionRollbackUndeploy, model.ActionRollbackRestore} {
		m.stepDuration.WithLabelValues(string(a))
	}
	if reg != nil {
		reg.MustRegister(m.leader, m.rolloutsStarted, m.rolloutsEnded, m.stepDuration, m.memberChanges)
	}
	return m
}
