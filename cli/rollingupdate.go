package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

// rolloutArgs are the rolling-update flags as typed: "" (or nil) when not given, so
// the master can layer what was given over the job's options and the defaults.
type rolloutArgs struct {
	Timeout        string // seconds a step may take
	Parallelism    string
	RolloutTimeout string // minutes the command waits; "" means the default, 60
	Canary         string
	Migrate        *bool
	Overlap        *bool
	IgnoreFailures *bool
	AutoRollback   *bool
	Token          *string
}

// defaultRolloutWait is how long rolling-update waits for the rollout, as the original.
const defaultRolloutWait = 60 * time.Minute

// parseRolloutArgs turns the flags into the request's options (unset ones nil) and the
// time the command waits, with the original's messages for values out of range.
func parseRolloutArgs(a rolloutArgs) (model.RolloutOptions, time.Duration, error) {
	opts := model.RolloutOptions{
		Migrate: a.Migrate, Overlap: a.Overlap, IgnoreFailures: a.IgnoreFailures,
		AutoRollback: a.AutoRollback, Token: a.Token,
	}
	if a.Timeout != "" {
		n, err := parseCount("--timeout", a.Timeout, "seconds")
		if err != nil {
			return opts, 0, err
		}
		if n <= 0 {
			return opts, 0, usagef("Timeout must be greater than 0")
		}
		opts.Timeout = &n
	}
	if a.Parallelism != "" {
		n, err := parseCount("--par", a.Parallelism, "hosts")
		if err != nil {
			return opts, 0, err
		}
		if n <= 0 {
			return opts, 0, usagef("Parallelism must be greater than 0")
		}
		p := int(n)
		opts.Parallelism = &p
	}
	if a.Canary != "" {
		n, err := parseCount("--canary", a.Canary, "hosts")
		if err != nil {
			return opts, 0, err
		}
		if n < 0 {
			return opts, 0, usagef("Canary must be 0 or greater")
		}
		c := int(n)
		opts.Canary = &c
	}
	wait := defaultRolloutWait
	if a.RolloutTimeout != "" {
		n, err := parseCount("--rollout-timeout", a.RolloutTimeout, "minutes")
		if err != nil {
			return opts, 0, err
		}
		if n <= 0 {
			return opts, 0, usagef("Rollout timeout must be greater than 0")
		}
		if n > math.MaxInt64/int64(time.Minute) {
			return opts, 0, usagef("Rollout timeout %d is too large: at most %d minutes", n, math.MaxInt64/int64(time.Minute))
		}
		wait = time.Duration(n) * time.Minute
	}
	return opts, wait, nil
}

// parseCount reads a whole number of unit for flag, within 32 bits.
func parseCount(flag, s, unit string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0, usagef("Invalid %s %q: want a whole number of %s", flag, s, unit)
	}
	return n, nil
}

// boolArg is a boolean flag as the request carries it: nil unless given.
func boolArg(c *ucli.Context, name string) *bool {
	if !c.IsSet(name) {
		return nil
	}
	v := c.Bool(name)
	return &v
}

func stringArg(c *ucli.Context, name string) string {
	if !c.IsSet(name) {
		return ""
	}
	return c.String(name)
}

// rollingUpdateResult is rolling-update's --json answer: the options it ran with and how
// it ended. Fields are in the original's (sorted) order.
type rollingUpdateResult struct {
	AutoRollback   *bool    `json:"autoRollback,omitempty"`
	Canary         *int     `json:"canary,omitempty"`
	Duration       *float64 `json:"duration,omitempty"`
	Error          string   `json:"error,omitempty"`
	IgnoreFailures *bool    `json:"ignoreFailures"`
	Migrate        *bool    `json:"migrate"`
	Overlap        *bool    `json:"overlap"`
	Parallelism    *int     `json:"parallelism"`
	RolledBack     bool     `json:"rolledBack,omitempty"`
	Status         string   `json:"status"`
	Timeout        *int64   `json:"timeout"`
	Token          *string  `json:"token"`
}

func resultOf(o model.RolloutOptions, status string) rollingUpdateResult {
	res := rollingUpdateResult{
		IgnoreFailures: o.IgnoreFailures, Migrate: o.Migrate, Overlap: o.Overlap,
		Parallelism: o.Parallelism, Timeout: o.Timeout, Token: o.Token, Status: status,
	}
	if o.AutoRollback != nil && *o.AutoRollback {
		res.AutoRollback = o.AutoRollback
	}
	if o.Canary != nil && *o.Canary > 0 {
		res.Canary = o.Canary
	}
	return res
}

// startLine is the original's "Rolling update started" line, with our options when set.
func startLine(group string, id model.JobID, o model.RolloutOptions, async bool) string {
	head := "Rolling update started"
	if async {
		head = "Rolling update (async) started"
	}
	s := fmt.Sprintf("%s: %s -> %s (parallelism=%s, timeout=%s, overlap=%s, token=%s, ignoreFailures=%s, migrate=%s",
		head, group, jobIDText(id, false), orNull(o.Parallelism), orNull(o.Timeout), orNull(o.Overlap),
		orNull(o.Token), orNull(o.IgnoreFailures), orNull(o.Migrate))
	if o.AutoRollback != nil && *o.AutoRollback {
		s += ", autoRollback=true"
	}
	if o.Canary != nil && *o.Canary > 0 {
		s += fmt.Sprintf(", canary=%d", *o.Canary)
	}
	return s + ")"
}

func (r *runner) rollingUpdate(c *ucli.Context) error {
	opts, wait, err := parseRolloutArgs(rolloutArgs{
		Timeout: stringArg(c, "timeout"), Parallelism: stringArg(c, "par"),
		RolloutTimeout: stringArg(c, "rollout-timeout"), Canary: stringArg(c, "canary"),
		Migrate: boolArg(c, "migrate"), Overlap: boolArg(c, "overlap"),
		IgnoreFailures: boolArg(c, "ignore-failures"), AutoRollback: boolArg(c, "auto-rollback"),
		Token: func() *string {
			if !c.IsSet("token") {
				return nil
			}
			t := c.String("token")
			return &t
		}(),
	})
	if err != nil {
		return err
	}
	pos, _, _ := positionals(c)
	if len(pos) != 2 {
		return usagef("rolling-update takes a job and a deployment group: helios rolling-update <job> <group>")
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	if pos[0] == "" {
		return usagef("a job reference (name, name:version or id) is required")
	}
	jobs, err := cl.jobs(c.Context, pos[0])
	if err != nil {
		return err
	}
	id, err := pickJob(pos[0], jobs)
	if err != nil {
		return err
	}
	group := pos[1]
	job := jobs[id]
	shown := model.ResolveRolloutOptions(&opts, job.RolloutOptions)
	resp, err := cl.rollingUpdate(c.Context, group, model.RollingUpdateRequest{Job: id, RolloutOptions: &opts})
	if err != nil {
		return err
	}
	if resp.Status != model.StatusOK {
		if r.json {
			_ = writeJSON(r.stdout, resp)
			return errFailed
		}
		fmt.Fprintf(r.stderr, "Failed: RollingUpdateResponse{status=%s}\n", resp.Status)
		if resp.Message != "" {
			fmt.Fprintf(r.stderr, "  %s\n", resp.Message)
		}
		for _, e := range resp.Errors {
			fmt.Fprintf(r.stderr, "  %s\n", e)
		}
		return errFailed
	}
	async := c.Bool("async")
	if async {
		if r.json {
			fmt.Fprintln(r.stdout, compactJSON(resultOf(shown, model.StatusOK)))
		} else {
			fmt.Fprintln(r.stdout, startLine(group, id, shown, true))
		}
		return nil
	}
	if !r.json {
		fmt.Fprintln(r.stdout, startLine(group, id, shown, false))
		fmt.Fprintln(r.stdout)
	}
	return r.followRollout(c, cl, group, id, shown, wait)
}
