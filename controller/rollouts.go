package controller

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// Sizes of one round of a rollout. window bounds the tasks whose hosts are read ahead;
// maxWrites the deployment writes gathered into one transaction (etcd allows 128
// operations; a deployment write takes two plus one per static port).
const (
	rolloutWindow    = 200
	rolloutMaxWrites = 25
	// rolloutRounds bounds the rounds one group gets per wake, so a group that keeps
	// conflicting cannot starve the others; its next wake resumes it.
	rolloutRounds = 500
)

// rollouts is the leader loop of deployment groups: it keeps each group's members in step
// with the hosts' labels (starting a HOSTS_CHANGED rollout when they change) and carries
// out every rollout, step by step, each step committed with the advance of the rollout's
// position in one fenced transaction. It is level-triggered: watches of the groups, their
// statuses and the hosts only wake it, and every wake re-reads what it acts on; a timer
// wakes it when a waiting step would time out.
type rollouts struct {
	st     *store.Store
	master string
	log    *zap.Logger
	m      *metrics
	now    func() time.Time

	seen map[string]int64 // group -> start time of the rollout last counted as started
	// deferred holds the groups whose members were not updated because a rollout was under
	// way: their members are looked at again once it has ended.
	deferred map[string]bool
}

func newRollouts(st *store.Store, master string, log *zap.Logger, m *metrics) *rollouts {
	return &rollouts{st: st, master: master, log: log, m: m, now: time.Now, seen: map[string]int64{}, deferred: map[string]bool{}}
}

// run is the LeaderLoop.
func (c *rollouts) run(ctx context.Context, l *store.Leadership) error {
	keys := c.st.Keys()
	members := c.st.PokeMembership(ctx)
	groups := c.st.Poke(ctx, keys.DeploymentGroups())
	statuses := c.st.Poke(ctx, keys.DeploymentGroupStatuses())
	tasks := c.st.Poke(ctx, keys.HostStatuses())
	deployments := c.st.Poke(ctx, keys.Hosts())
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		membership := false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-members:
			membership = true
		case <-groups:
			membership = true
		case <-statuses:
		case <-tasks:
		case <-deployments:
		case <-timer.C:
		}
		wake, err := c.reconcile(ctx, l, membership)
		switch {
		case errors.Is(err, store.ErrNotLeader) || ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			c.log.Warn("deployment groups: reconcile failed; retrying", zap.Error(err))
			wake = time.Second
		}
		timer.Reset(wake)
	}
}

// reconcile brings every group one pass forward and tells when to look again.
func (c *rollouts) reconcile(ctx context.Context, l *store.Leadership, membership bool) (time.Duration, error) {
	recs, err := c.st.ListGroupRecords(ctx)
	if err != nil {
		return 0, err
	}
	for name := range c.deferred {
		if rec, ok := recs[name]; !ok || !rec.Status.Busy() {
			membership = true
		}
	}
	if membership {
		if err := c.updateMembers(ctx, l, recs); err != nil {
			return 0, err
		}
		if recs, err = c.st.ListGroupRecords(ctx); err != nil {
			return 0, err
		}
	}
	next := time.Hour
	var firstErr error
	for _, name := range slices.Sorted(maps.Keys(recs)) {
		rec := recs[name]
		c.countStart(name, rec.Status)
		if !rec.Status.Active() {
			continue
		}
		wakeAtMs, err := c.step(ctx, l, name)
		if err != nil {
			if errors.Is(err, store.ErrNotLeader) {
				return 0, err
			}
			if firstErr == nil && !errors.Is(err, store.ErrDeploymentGroupNotFound) {
				firstErr = err
			}
			continue
		}
		if wakeAtMs > 0 {
			next = min(next, max(time.Until(time.UnixMilli(wakeAtMs)), 10*time.Millisecond))
		}
	}
	return next, firstErr
}

// countStart counts a rollout the first time this leader sees it.
func (c *rollouts) countStart(name string, st model.GroupStatus) {
	if st.Rollout == nil || c.seen[name] == st.Rollout.Started {
		return
	}
	if c.seen[name] != 0 || st.Active() {
		c.m.rolloutsStarted.WithLabelValues(string(st.Rollout.Reason)).Inc()
	}
	c.seen[name] = st.Rollout.Started
}

// step runs rounds of a group's rollout until it must wait (for an agent, for its timeout
// or for a promotion) or is over, and tells when its waiting step times out (0: never).
func (c *rollouts) step(ctx context.Context, l *store.Leadership, name string) (int64, error) {
	maxWrites := rolloutMaxWrites
	for range rolloutRounds {
		round, err := c.st.ReadRollout(ctx, name, c.master, rolloutWindow, c.now().UnixMilli())
		if err != nil {
			return 0, err
		}
		if !round.World.Status.Active() {
			return 0, nil
		}
		res := model.StepRollout(round.World, maxWrites)
		if !res.Changed {
			return res.WakeAtMs, nil
		}
		err = c.st.CommitRollout(ctx, l, round, res)
		switch {
		case errors.Is(err, store.ErrConflict):
			continue // something changed since the read: read again
		case errors.Is(err, store.ErrTooLarge) && maxWrites > 1:
			maxWrites /= 2
			continue
		case err != nil:
			return 0, err
		}
		c.observe(name, round.World, res)
		if res.WakeAtMs != 0 || !res.Status.Active() {
			return res.WakeAtMs, nil
		}
	}
	return c.now().Add(10 * time.Millisecond).UnixMilli(), nil
}

// observe logs and counts what a committed round did.
func (c *rollouts) observe(name string, w model.RolloutWorld, res model.StepResult) {
	started := w.Status.Rollout.StepStarted
	for _, t := range res.Steps {
		c.m.stepDuration.WithLabelValues(string(t.Action)).Observe(float64(w.NowMs-started) / 1000)
		started = w.NowMs
		c.log.Debug("rollout step done", zap.String("deployment-group", name), zap.String("action", string(t.Action)), zap.String("host", t.Target))
	}
	for _, f := range res.Ignored {
		c.log.Warn("rollout step failed; ignoring failures as asked", zap.String("deployment-group", name), zap.String("error", f.Error()))
	}
	wasRollingBack := w.Status.Rollout.RollingBack
	switch {
	case res.Ended == model.GroupDone:
		c.m.rolloutsEnded.WithLabelValues(resultDone).Inc()
		c.log.Info("rollout done", zap.String("deployment-group", name), zap.String("job-id", string(res.Status.Rollout.JobID)))
	case res.Ended == model.GroupPaused:
		c.m.rolloutsEnded.WithLabelValues(resultPaused).Inc()
		c.log.Info("rollout paused after its canary hosts; promote-deployment-group resumes it", zap.String("deployment-group", name))
	case res.Ended == model.GroupFailed:
		c.m.rolloutsEnded.WithLabelValues(resultFailed).Inc()
		c.log.Warn("rollout failed", zap.String("deployment-group", name), zap.String("error", res.Status.Error),
			zap.Bool("rolling-back", res.Status.Rollout.RollingBack))
	case wasRollingBack && res.Status.RolledBack:
		c.m.rolloutsEnded.WithLabelValues(resultRolledBack).Inc()
		c.log.Info("rollback done", zap.String("deployment-group", name), zap.Strings("problems", res.Status.RollbackErrors))
	}
}

// updateMembers recomputes every idle group's members from the hosts' labels and, where
// they changed, records them and starts a HOSTS_CHANGED rollout as the original does.
// Groups with a rollout under way are left until it ends (deferred): the wake that sees
// it ended looks at their members again.
func (c *rollouts) updateMembers(ctx context.Context, l *store.Leadership, recs map[string]store.GroupRecord) error {
	facts, err := c.st.HostFactsAll(ctx)
	if err != nil {
		return err
	}
	up := func(h string) bool { return facts[h].Up }
	clear(c.deferred)
	for _, name := range slices.Sorted(maps.Keys(recs)) {
		if recs[name].Status.Busy() {
			c.deferred[name] = true
			continue
		}
		nowMs := c.now().UnixMilli()
		changed := false
		err := c.st.UpdateGroup(ctx, l, name, func(g model.DeploymentGroup, st model.GroupStatus) (model.DeploymentGroup, model.GroupStatus, bool) {
			if st.Busy() {
				c.deferred[name] = true
				return g, st, false
			}
			next, ok := store.Members(g, st, facts)
			// A host that left the group while it was down is undeployed once it is up
			// (the original waited for the next change of members).
			leftAndUp := slices.ContainsFunc(next.Removed, up)
			roll := model.RollOnHostChange(g, next)
			if !ok && !(leftAndUp && roll) {
				return g, st, false
			}
			if roll {
				g.RollingUpdateReason = model.ReasonHostsChanged
				opts := model.ResolveRolloutOptions(g.RolloutOptions)
				next = model.StartRollout(next, g.JobID, model.ReasonHostsChanged, opts, up, nowMs)
			}
			changed = true
			return g, next, true
		})
		switch {
		case errors.Is(err, store.ErrNotLeader):
			return err
		case errors.Is(err, store.ErrDeploymentGroupNotFound):
		case err != nil:
			c.log.Warn("update deployment group members", zap.String("deployment-group", name), zap.Error(err))
		case changed:
			c.m.memberChanges.Inc()
			c.log.Info("deployment group members changed", zap.String("deployment-group", name))
		}
	}
	return nil
}
