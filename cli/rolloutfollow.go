package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

// errJobIDChanged is the original's words for a rolling update that another one replaced.
const errJobIDChanged = "Deployment-group job id changed during rolling-update"

// Outcome of a rolling update the command waited for, beyond deploy --watch's words.
const outcomePaused = "PAUSED"

// rolloutEnd is how the wait for a rollout ended.
type rolloutEnd struct {
	status         string // DONE, FAILED, TIMEOUT or PAUSED
	err            string
	rolledBack     bool
	rollbackErrors []string
}

// rolloutFollower reads the statuses of a group one by one while its rollout of job goes
// on, and tells what to print and when the rollout is over. It is the whole decision of
// rolling-update's wait, without I/O.
type rolloutFollower struct {
	job         model.JobID
	running     map[string]bool // hosts already reported RUNNING
	rollingBack bool            // "Rolling back…" printed
}

func newRolloutFollower(job model.JobID) *rolloutFollower {
	return &rolloutFollower{job: job, running: map[string]bool{}}
}

// step takes the next status: the lines to print, and the end once there is one. A host
// is reported once, the first time it runs the job RUNNING: "<host> -> RUNNING (k/n)",
// k hosts so far out of the n the status lists.
func (f *rolloutFollower) step(st *model.DeploymentGroupStatusResponse) ([]string, *rolloutEnd) {
	if st.DeploymentGroup.JobID != f.job {
		return nil, &rolloutEnd{status: outcomeFailed, err: errJobIDChanged}
	}
	var lines []string
	for _, hs := range st.HostStatuses {
		if f.running[hs.Host] || hs.JobID == nil || *hs.JobID != f.job || hs.State == nil || *hs.State != model.StateRunning {
			continue
		}
		f.running[hs.Host] = true
		lines = append(lines, fmt.Sprintf("%s -> RUNNING (%d/%d)", hs.Host, len(f.running), len(st.HostStatuses)))
	}
	switch st.Status {
	case model.GroupRollingOut:
		return lines, nil
	case model.GroupPaused:
		return lines, &rolloutEnd{status: outcomePaused}
	case model.GroupFailed:
		if st.RollingBack {
			if !f.rollingBack {
				f.rollingBack = true
				lines = append(lines, "Rolling back…")
			}
			return lines, nil
		}
		return lines, &rolloutEnd{status: outcomeFailed, err: st.Error, rolledBack: st.RolledBack, rollbackErrors: st.RollbackErrors}
	}
	return lines, &rolloutEnd{status: outcomeDone}
}

// errRolloutEnded stops the watch once the follower has an end.
var errRolloutEnded = errors.New("rollout ended")

// followRollout waits, on the group's watch stream, until the rollout of id ends or wait
// passes, printing progress, and prints the ending.
func (r *runner) followRollout(c *ucli.Context, cl *client, group string, id model.JobID, shown model.RolloutOptions, wait time.Duration) error {
	start := time.Now()
	f := newRolloutFollower(id)
	var end *rolloutEnd
	wctx, cancel := context.WithTimeout(c.Context, wait)
	defer cancel()
	err := cl.watchGroup(wctx, group, func(st *model.DeploymentGroupStatusResponse) error {
		lines, e := f.step(st)
		if !r.json {
			for _, l := range lines {
				fmt.Fprintln(r.stdout, l)
			}
		}
		if e != nil {
			end = e
			return errRolloutEnded
		}
		return nil
	})
	switch {
	case end != nil:
	case errors.Is(err, context.DeadlineExceeded) && c.Context.Err() == nil:
		end = &rolloutEnd{status: outcomeTimeout}
	case isStatus(err, model.StatusDeploymentGroupNotFound):
		end = &rolloutEnd{status: outcomeFailed, err: fmt.Sprintf("deployment group %s was removed", group)}
	default:
		return err // interrupted, or no master to watch with
	}
	elapsed := time.Since(start)
	if r.json {
		res := resultOf(shown, end.status)
		secs := math.Round(elapsed.Seconds()*1000) / 1000
		res.Duration, res.Error, res.RolledBack = &secs, end.err, end.rolledBack
		if err := writeJSONLine(r.stdout, res); err != nil {
			return err
		}
	} else {
		writeRolloutEnd(r.stdout, group, end, elapsed)
	}
	if end.status == outcomeDone || end.status == outcomePaused {
		return nil
	}
	return errFailed
}

// writeRolloutEnd prints the ending of rolling-update's wait, as the original: a blank
// line, the outcome, the duration.
func writeRolloutEnd(w io.Writer, group string, end *rolloutEnd, elapsed time.Duration) {
	fmt.Fprintln(w)
	switch end.status {
	case outcomeDone:
		fmt.Fprintln(w, "Done.")
	case outcomeTimeout:
		fmt.Fprintln(w, "Timed out! (rolling-update still in progress)")
	case outcomePaused:
		fmt.Fprintf(w, "Paused after the canary hosts: run 'helios promote-deployment-group %s' to go on\n", group)
	default:
		fmt.Fprintf(w, "Failed: %s\n", end.err)
		if end.rolledBack {
			fmt.Fprintln(w, "Rolled back.")
		}
		if len(end.rollbackErrors) > 0 {
			fmt.Fprintln(w, "Rollback problems:")
			for _, e := range end.rollbackErrors {
				fmt.Fprintf(w, "  %s\n", e)
			}
		}
	}
	fmt.Fprintf(w, "Duration: %.2f s\n", elapsed.Seconds())
}

// writeJSONLine prints v as compact JSON and a newline.
func writeJSONLine(w io.Writer, v any) error {
	_, err := fmt.Fprintln(w, compactJSON(v))
	return err
}
