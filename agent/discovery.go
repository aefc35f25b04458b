package agent

import (
	"context"
	"errors"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// discoveryActions adds to a job's planned actions what service discovery needs (pure, part
// of plan). Endpoints are published only for a container that runs and is (or is about to
// be reported) RUNNING, that is once its health check passed, and withdrawn first of all
// when that stops being so: before a stop, a removal or a replacement (with Drain: the
// withdrawal waits for DNS to drop the record, then the job's grace period runs, and only
// then is the container stopped), or when the container has exited (at once).
func discoveryActions(in planInput, id model.JobID, cs []Container, out []action) []action {
	pub := in.Published[id]
	d, wanted := in.Desired[id]
	if wanted && d.Job == nil {
		return out // a deployment whose job is unreadable is left alone, its records too
	}
	registers := in.Discovery && wanted && d.Job != nil && d.Goal == model.GoalStart && len(d.Job.Registration) > 0
	if pub == "" && !registers {
		return out
	}
	// What this pass does to the containers, and whether it reports one RUNNING.
	touched, reportsRunning := map[string]bool{}, map[string]bool{}
	for _, act := range out {
		switch act.Kind {
		case actStop, actRemove, actStart:
			if act.ContainerID != "" {
				touched[act.ContainerID] = true
			}
		case actReport:
			if act.State == model.StateRunning {
				reportsRunning[act.ContainerID] = true
			}
		}
	}
	healthy := ""
	for _, c := range cs {
		rep, ok := in.Reported[id]
		running := reportsRunning[c.ID] || (ok && rep.ContainerID == c.ID && rep.State == model.StateRunning && rep.Goal == model.GoalStart)
		if c.Running && running && !touched[c.ID] && !in.Checking[c.ID] && c.Labels[LabelSpecHash] == d.SpecHash {
			healthy = c.ID
		}
	}
	if registers && healthy != "" {
		if pub == healthy {
			return out
		}
		// Publishing replaces what an older container had published.
		return append(out, action{Kind: actPublish, JobID: id, ContainerID: healthy, Goal: d.Goal, Reason: reasonHealthy})
	}
	if pub == "" {
		return out
	}
	// Published, and no longer to be: withdraw before anything else happens to the job.
	w := action{Kind: actWithdraw, JobID: id, ContainerID: pub, Goal: model.GoalUndeploy, Reason: reasonNotRunning}
	if wanted {
		w.Goal = d.Goal
	}
	for _, c := range cs {
		if c.ID == pub && c.Running && touched[c.ID] {
			w.Drain, w.Reason = true, reasonStopping
		}
	}
	return append([]action{w}, out...)
}

// publish writes the endpoints of the job's running container: its ports as bound, at the
// advertised address, under the domain (docs/discovery.md).
func (a *Agent) publish(ctx context.Context, act action, j *model.Job) error {
	if j == nil {
		return errors.New("publish: job unknown")
	}
	c, err := a.cfg.Runtime.Inspect(ctx, act.ContainerID)
	if err != nil {
		return err
	}
	eps := model.EndpointsOf(j, taskPorts(j, c.Ports), a.cfg.Domain, a.cfg.AdvertiseAddress)
	err = a.cfg.Registrar.Publish(ctx, model.JobEndpoints{JobID: act.JobID, ContainerID: act.ContainerID, Endpoints: eps})
	if errors.Is(err, store.ErrUnavailable) {
		// Not published, so the next pass tries again; failing the action would back the
		// whole job off, restarts included, for as long as etcd is away.
		a.m.etcdErrors.Inc()
		a.log.Warn("cannot publish endpoints while etcd is unreachable", zap.String("job-id", string(act.JobID)), zap.Error(err))
		return nil
	}
	if err != nil {
		return err
	}
	a.m.endpointsPublished.Inc()
	a.log.Info("endpoints published", zap.String("job-id", string(act.JobID)), zap.Int("endpoints", len(eps)))
	return nil
}

// withdraw removes the job's endpoints. Before a stop (Drain) it waits for DNS to drop them,
// at most the job's grace period (WithdrawWait when it has none), then the grace period.
func (a *Agent) withdraw(ctx context.Context, act action, j *model.Job) error {
	grace := time.Duration(0)
	if j != nil && j.GracePeriod != nil && *j.GracePeriod > 0 {
		grace = time.Duration(*j.GracePeriod) * time.Second
	}
	drain := time.Duration(0)
	if act.Drain {
		drain = grace
		if drain == 0 {
			drain = a.cfg.WithdrawWait
		}
	}
	err := a.cfg.Registrar.Withdraw(ctx, act.JobID, drain)
	switch {
	case errors.Is(err, store.ErrUnavailable):
		// Still published: the next pass tries again (and the agent's lease takes the
		// endpoints if etcd stays away). A stop or a restart must not wait for etcd.
		a.m.etcdErrors.Inc()
		a.log.Warn("cannot withdraw endpoints while etcd is unreachable", zap.String("job-id", string(act.JobID)), zap.Error(err))
		return a.graceWait(ctx, act, grace)
	case errors.Is(err, store.ErrNotDrained):
		// The masters must never hold a stop up for long: say so and go on.
		a.log.Warn("stopping without knowing DNS dropped the task's records", zap.String("job-id", string(act.JobID)), zap.Error(err))
	case err != nil:
		return err
	}
	a.m.endpointsWithdrawn.Inc()
	a.log.Info("endpoints withdrawn", zap.String("job-id", string(act.JobID)), zap.Bool("before-stop", act.Drain))
	return a.graceWait(ctx, act, grace)
}

// graceWait runs the job's grace period before a stop (Drain).
func (a *Agent) graceWait(ctx context.Context, act action, grace time.Duration) error {
	if act.Drain && grace > 0 {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
