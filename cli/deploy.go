package cli

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

// hostResult is one host's answer to deploy, undeploy, start or stop; --json prints a list.
type hostResult struct {
	Host    string      `json:"host"`
	Job     model.JobID `json:"job"`
	Status  string      `json:"status"`
	Message string      `json:"message,omitempty"`
}

// eachHost runs op on every host, printing "host: done" or "host: failed: STATUS (...)",
// and fails when any host failed. Every host is tried whatever the others answered.
func (r *runner) eachHost(id model.JobID, hosts []string, op func(host string) (status, message string, err error)) error {
	_, err := r.eachHostResults(id, hosts, op)
	return err
}

// eachHostResults is eachHost returning every host's result too.
func (r *runner) eachHostResults(id model.JobID, hosts []string, op func(host string) (status, message string, err error)) ([]hostResult, error) {
	results := make([]hostResult, 0, len(hosts))
	failed := false
	for _, h := range hosts {
		status, message, err := op(h)
		if err != nil {
			ae, ok := err.(*apiError)
			if !ok {
				return results, err
			}
			status, message = ae.Status, ae.Message
		}
		results = append(results, hostResult{Host: h, Job: id, Status: status, Message: message})
		if status != model.StatusOK {
			failed = true
			if !r.json {
				fmt.Fprintf(r.stdout, "%s: failed: %s\n", h, statusText(status, message))
			}
		} else if !r.json {
			fmt.Fprintf(r.stdout, "%s: done\n", h)
		}
	}
	if r.json {
		if err := writeJSON(r.stdout, results); err != nil {
			return results, err
		}
	}
	if failed {
		return results, errFailed
	}
	return results, nil
}

// jobAndHosts reads "<job> <host>..." and resolves both.
func (r *runner) jobAndHosts(c *ucli.Context, needHosts bool) (*client, model.JobID, []string, error) {
	pos, _, _ := positionals(c)
	if len(pos) == 0 {
		return nil, "", nil, usagef("a job is required")
	}
	if needHosts && len(pos) < 2 {
		return nil, "", nil, usagef("at least one host is required")
	}
	cl, err := r.api(c)
	if err != nil {
		return nil, "", nil, err
	}
	// The job and the hosts are looked up at once: two round trips to the master in the
	// time of one, before the deploy (or undeploy, start, stop) itself.
	var (
		hosts   []string
		hostErr error
		wg      sync.WaitGroup
	)
	if len(pos) > 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hosts, hostErr = cl.resolveHosts(c.Context, pos[1:])
		}()
	}
	id, err := cl.resolveJob(c.Context, pos[0])
	wg.Wait()
	if err != nil {
		return nil, "", nil, err
	}
	if hostErr != nil {
		return nil, "", nil, hostErr
	}
	return cl, id, hosts, nil
}

func (r *runner) deploy(c *ucli.Context) error {
	watch := c.Bool("watch")
	if watch && c.Bool("no-start") {
		return usagef("--watch follows the deployment until it is RUNNING, which --no-start never gets to; drop one of them")
	}
	timeout := c.Duration("watch-timeout")
	if watch && timeout <= 0 {
		return usagef("invalid --watch-timeout %s: want a positive duration, e.g. 5m", timeout)
	}
	goal := model.GoalStart
	if c.Bool("no-start") {
		goal = model.GoalStop
	}
	if !watch {
		if done, err := r.deployDirect(c, goal); done {
			return err
		}
	}
	cl, id, hosts, err := r.jobAndHosts(c, true)
	if err != nil {
		return err
	}
	// What the job's history holds now is the past: the watch must not take an old
	// RUNNING (from an earlier deployment on the host) for this deployment's.
	var baseline []model.TaskStatusEvent
	if watch {
		if baseline, err = cl.history(c.Context, id); err != nil {
			return err
		}
	}
	if !r.json {
		fmt.Fprintf(r.stdout, "Deploying %s|%s on [%s]\n", id, goal, strings.Join(hosts, ", "))
	}
	results, err := r.eachHostResults(id, hosts, func(h string) (string, string, error) {
		resp, err := cl.deploy(c.Context, h, model.Deployment{JobID: id, Goal: goal}, c.String("token"))
		if err != nil {
			return "", "", err
		}
		return resp.Status, resp.Message, nil
	})
	if !watch || (err != nil && !errors.Is(err, errFailed)) {
		return err
	}
	var deployed []string
	for _, res := range results {
		if res.Status == model.StatusOK {
			deployed = append(deployed, res.Host)
		}
	}
	if len(deployed) == 0 {
		return err
	}
	if !r.json {
		fmt.Fprintf(r.stdout, "Waiting for %s to be RUNNING on [%s] (up to %s)\n", id, strings.Join(deployed, ", "), timeout)
	}
	if werr := r.followDeployment(c.Context, cl, id, deployed, baseline, timeout); werr != nil {
		return werr
	}
	return err // some hosts refused the deployment: still a failure
}

// deployDirect is `helios deploy <full job id> <host>` without the job and host lookups,
// which cost a round trip to the master before the deploy: a full id names one job (no
// other id contains it), and an existing host's exact name is the host it resolves to. The
// deploy itself tells whether both exist. Only an accepted deploy is printed here (as the
// usual path prints it); on any other answer (JOB_NOT_FOUND, HOST_NOT_FOUND for a host
// prefix, a refusal) or error, nothing has been printed or written, done is false and the
// caller takes the usual path (lookups, prefix matching, then the deploy), whose output and
// errors are the original's.
func (r *runner) deployDirect(c *ucli.Context, goal model.Goal) (done bool, err error) {
	pos, _, _ := positionals(c)
	if len(pos) != 2 {
		return false, nil
	}
	id, err := model.ParseJobID(pos[0])
	if err != nil {
		return false, nil
	}
	host := pos[1]
	cl, err := r.api(c)
	if err != nil {
		return false, nil
	}
	start := time.Now()
	resp, err := cl.deploy(c.Context, host, model.Deployment{JobID: id, Goal: goal}, c.String("token"))
	if err != nil || resp.Status != model.StatusOK {
		// A refused deploy wrote nothing: the usual path asks again and reports the answer
		// (or the lookups' own errors first, as the original does).
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == statusUnavailable || time.Since(start) >= cl.retryTimeout {
			// The masters were unreachable (or unavailable) until --retry-timeout: the usual
			// path tries once more, not for another --retry-timeout, and fails with its own
			// error, as it would have.
			cl.retryTimeout = 0
		}
		return false, nil
	}
	if !r.json {
		fmt.Fprintf(r.stdout, "Deploying %s|%s on [%s]\n", id, goal, host)
	}
	_, err = r.eachHostResults(id, []string{host}, func(string) (string, string, error) {
		return resp.Status, resp.Message, nil
	})
	return true, err
}

func (r *runner) undeploy(c *ucli.Context) error {
	pos, _, _ := positionals(c)
	all := c.Bool("all")
	if len(pos) > 1 && all {
		return usagef("give either hosts or -a/--all, not both")
	}
	if len(pos) == 1 && !all {
		return usagef("Please either specify a list of hosts or use the -a/--all flag.")
	}
	cl, id, hosts, err := r.jobAndHosts(c, false)
	if err != nil {
		return err
	}
	if all {
		st, err := cl.jobStatus(c.Context, id)
		if err != nil {
			return err
		}
		hosts = sortedKeys(st.Deployments)
		if len(hosts) == 0 {
			if r.json {
				return writeJSON(r.stdout, []hostResult{})
			}
			fmt.Fprintf(r.stdout, "%s is not currently deployed on any hosts.\n", id)
			return nil
		}
		if !c.Bool("yes") {
			fmt.Fprintf(r.prompt(), "This will undeploy %s from [%s]\n", id, strings.Join(hosts, ", "))
			if !r.confirmOn(r.prompt()) {
				return &apiError{Status: "ABORTED", Message: "Aborted: not undeploying " + string(id)}
			}
		}
	}
	if !r.json {
		fmt.Fprintf(r.stdout, "Undeploying %s from [%s]\n", id, strings.Join(hosts, ", "))
	}
	return r.eachHost(id, hosts, func(h string) (string, string, error) {
		resp, err := cl.undeploy(c.Context, h, id, c.String("token"))
		if err != nil {
			return "", "", err
		}
		return resp.Status, resp.Message, nil
	})
}

// setGoalAction is start (goal START) or stop (goal STOP).
func (r *runner) setGoalAction(goal model.Goal) ucli.ActionFunc {
	verb := map[model.Goal]string{model.GoalStart: "Starting", model.GoalStop: "Stopping"}[goal]
	return func(c *ucli.Context) error {
		cl, id, hosts, err := r.jobAndHosts(c, true)
		if err != nil {
			return err
		}
		if !r.json {
			fmt.Fprintf(r.stdout, "%s %s on [%s]\n", verb, id, strings.Join(hosts, ", "))
		}
		return r.eachHost(id, hosts, func(h string) (string, string, error) {
			resp, err := cl.setGoal(c.Context, h, id, goal, c.String("token"))
			if err != nil {
				return "", "", err
			}
			return resp.Status, resp.Message, nil
		})
	}
}
