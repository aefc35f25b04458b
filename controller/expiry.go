package controller

import (
	"context"
	"errors"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// reapExpiredJobs is the leader loop that honours jobs' `expires`: every interval it
// undeploys each expired job from every host (the agents then stop and remove its
// containers) and removes the job with its history, as the original's expiry reaper does.
//
// It acts with the job's own token through the store's ordinary guarded transactions.
// Unlike a rollout step these writes need no leadership fence: expiring a job that is past
// its time is right whoever does it, and doing it twice is harmless.
func reapExpiredJobs(st *store.Store, every time.Duration, log *zap.Logger) LeaderLoop {
	return func(ctx context.Context, _ *store.Leadership) error {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			expireDue(ctx, st, time.Now(), log)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

// expireDue expires every job whose expiry is at or before now.
func expireDue(ctx context.Context, st *store.Store, now time.Time, log *zap.Logger) {
	jobs, err := st.ListJobs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("list jobs for expiry", zap.Error(err))
		}
		return
	}
	for id, job := range jobs {
		if job.Expires == nil || job.Expires.After(now) {
			continue
		}
		if err := expireJob(ctx, st, id, job); err != nil {
			if ctx.Err() == nil {
				log.Warn("expire job", zap.String("job-id", string(id)), zap.Error(err))
			}
			continue
		}
		log.Info("job expired: undeployed everywhere and removed", zap.String("job-id", string(id)), zap.Time("expires", *job.Expires))
	}
}

func expireJob(ctx context.Context, st *store.Store, id model.JobID, job model.Job) error {
	js, err := st.JobStatus(ctx, id)
	if errors.Is(err, store.ErrJobNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for host := range js.Deployments {
		if err := st.Undeploy(ctx, host, id, job.Token); err != nil && !errors.Is(err, store.ErrNotDeployed) && !errors.Is(err, store.ErrHostNotFound) {
			return err
		}
	}
	if err := st.RemoveJob(ctx, id, job.Token); err != nil && !errors.Is(err, store.ErrJobNotFound) {
		return err
	}
	return nil
}
