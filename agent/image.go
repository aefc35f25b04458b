package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

// imageError is a pull that failed with no local image to fall back on; the start is
// retried after retry (ImageMissingRetry or ImagePullRetry).
type imageError struct {
	retry time.Duration
	err   error
}

func (e *imageError) Error() string { return e.err.Error() }
func (e *imageError) Unwrap() error { return e.err }

// ensureImage pulls the job's image when it is not present locally (or always, with
// AlwaysPull), reporting PULLING_IMAGE. A failed pull with the image present locally is
// tolerated; otherwise the task is reported FAILED, throttled IMAGE_MISSING when the
// registry has no such image or IMAGE_PULL_FAILED for any other failure, and an
// *imageError is returned. It returns st as last written.
func (a *Agent) ensureImage(ctx context.Context, act action, j *model.Job, st model.TaskStatus) (model.TaskStatus, error) {
	present, err := a.cfg.Runtime.HasImage(ctx, j.Image)
	if err != nil {
		return st, a.fail(ctx, act, j, st, "", err)
	}
	if present && !a.cfg.AlwaysPull {
		st.Throttled = a.setImageThrottle(act.JobID, "")
		return st, nil
	}
	st.State = model.StatePullingImage
	if err := a.setStatus(ctx, act.JobID, st); err != nil {
		return st, err
	}
	log := a.log.With(zap.String("job-id", string(act.JobID)), zap.String("image", j.Image))
	log.Info("pulling image", zap.Bool("present", present))
	perr := a.cfg.Runtime.Pull(ctx, j.Image)
	if perr == nil {
		a.m.pulls.WithLabelValues("ok").Inc()
		st.Throttled = a.setImageThrottle(act.JobID, "")
		return st, nil
	}
	if ctx.Err() != nil {
		return st, perr
	}
	throttle, retry, result := model.ThrottleImagePullFailed, a.cfg.ImagePullRetry, "failed"
	if errors.Is(perr, ErrImageNotFound) {
		throttle, retry, result = model.ThrottleImageMissing, a.cfg.ImageMissingRetry, "missing"
	}
	a.m.pulls.WithLabelValues(result).Inc()
	if present {
		log.Warn("pull failed; using the local image", zap.Error(perr))
		st.Throttled = a.setImageThrottle(act.JobID, "")
		return st, nil
	}
	log.Warn("pull failed", zap.String("throttle", string(throttle)), zap.Duration("retry-in", retry), zap.Error(perr))
	st.Throttled = a.setImageThrottle(act.JobID, throttle)
	return st, &imageError{retry: retry, err: a.fail(ctx, act, j, st, "", fmt.Errorf("pull image %s: %w", j.Image, perr))}
}

// setImageThrottle records (or with "" clears) a job's image failure and returns the
// task's throttle now.
func (a *Agent) setImageThrottle(id model.JobID, t model.ThrottleState) model.ThrottleState {
	a.mu.Lock()
	defer a.mu.Unlock()
	tk := a.taskLocked(id)
	tk.imageThrottle = t
	return tk.throttle()
}
