package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

// watch follows a job's task state changes, pushed by the master, until interrupted.
func (r *runner) watch(c *ucli.Context) error {
	pos, _, _ := positionals(c)
	if len(pos) == 0 {
		return usagef("a job is required")
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	id, err := cl.resolveJob(c.Context, pos[0])
	if err != nil {
		return err
	}
	hosts := pos[1:]
	if len(hosts) > 0 {
		if hosts, err = cl.watchedHosts(c.Context, hosts, c.Bool("exact")); err != nil {
			return err
		}
	}
	width := len("HOST")
	for _, h := range hosts {
		width = max(width, len(h))
	}
	if len(hosts) == 0 {
		// Align on the hosts the job is deployed on now; later ones may overflow.
		if st, err := cl.jobStatus(c.Context, id); err == nil {
			for h := range st.Deployments {
				width = max(width, len(h))
			}
		}
	}
	p := eventPrinter{w: r.stdout, json: r.json, loc: r.location(), hostWidth: width, full: c.Bool("full")}
	p.header()
	err = cl.watchEvents(c.Context, id, hosts, newSeenEvents(), func(ev model.TaskStatusEvent) error {
		p.print(ev)
		return nil
	})
	if errors.Is(err, context.Canceled) && c.Context.Err() != nil {
		return nil // Ctrl-C is how a watch ends
	}
	return err
}

// watchedHosts maps each typed host to a registered one: as typed with exact, else the exact
// name or the one host it prefixes. A host that is not registered is an error: no event
// would ever come from it, and the watch would wait forever.
func (c *client) watchedHosts(ctx context.Context, refs []string, exact bool) ([]string, error) {
	all, err := c.hosts(ctx, "", nil)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(refs))
	for _, ref := range refs {
		h, found, err := pickHost(ref, all)
		if err != nil && !exact {
			return nil, &apiError{Status: model.StatusHostNotFound, Message: err.Error()}
		}
		if exact {
			h, found = ref, slices.Contains(all, ref)
		}
		if !found {
			return nil, &apiError{Status: model.StatusHostNotFound, Message: "Unknown host: " + ref}
		}
		out = append(out, h)
	}
	return out, nil
}

// eventPrinter writes one line per event: a fixed-width row, or compact JSON.
type eventPrinter struct {
	w         io.Writer
	json      bool
	loc       *time.Location
	hostWidth int
	full      bool
}

// Column widths of the longest state and throttle words, so rows line up as they stream.
const (
	stateWidth    = len(model.StateHealthchecking)
	throttleWidth = len(model.ThrottleImagePullFailed)
)

func (p eventPrinter) header() {
	if !p.json {
		p.row("TIMESTAMP", "HOST", "STATE", "THROTTLED", "CONTAINERID")
	}
}

func (p eventPrinter) print(ev model.TaskStatusEvent) {
	if p.json {
		fmt.Fprintln(p.w, compactJSON(ev))
		return
	}
	throttled := string(ev.Status.Throttled)
	if throttled == "" {
		throttled = string(model.ThrottleNo)
	}
	p.row(time.UnixMilli(ev.Timestamp).In(p.loc).Format(historyTimeLayout), ev.Host,
		string(ev.Status.State), throttled, shortContainerID(ev.Status.ContainerID, p.full))
}

func (p eventPrinter) row(ts, host, state, throttled, cid string) {
	fmt.Fprintf(p.w, "%-*s  %-*s  %-*s  %-*s  %s\n", len(historyTimeLayout), ts, p.hostWidth, host,
		stateWidth, state, throttleWidth, throttled, cid)
}

// deployOutcome is what deploy --watch prints with --json after the hosts' results.
type deployOutcome struct {
	Status  string                      `json:"status"` // DONE, FAILED or TIMEOUT
	Message string                      `json:"message,omitempty"`
	Hosts   map[string]model.TaskStatus `json:"hosts"` // the last state seen of each host
}

// Outcome words of deploy --watch.
const (
	outcomeDone    = "DONE"
	outcomeFailed  = "FAILED"
	outcomeTimeout = "TIMEOUT"
)

// errAllRunning ends the watch of a deployment that came up everywhere.
var errAllRunning = errors.New("all hosts running")

// deployFailure ends the watch of a deployment that failed on a host.
type deployFailure struct{ host, reason string }

func (e *deployFailure) Error() string { return e.host + ": FAILED (" + e.reason + ")" }

// followDeployment watches the job on hosts until every one is RUNNING, one fails (FAILED,
// or an image that cannot be had), or timeout passes. baseline is the job's history from
// before the deploy: those events are the past, whatever the stream repeats of them.
func (r *runner) followDeployment(ctx context.Context, cl *client, id model.JobID, hosts []string, baseline []model.TaskStatusEvent, timeout time.Duration) error {
	seen := newSeenEvents()
	want := map[string]bool{}
	for _, h := range hosts {
		want[h] = true
	}
	for _, ev := range baseline {
		if want[ev.Host] {
			seen.add(ev)
		}
	}
	last := map[string]model.TaskStatus{}
	pending := map[string]bool{}
	for h := range want {
		pending[h] = true
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := cl.watchEvents(wctx, id, hosts, seen, func(ev model.TaskStatusEvent) error {
		if !pending[ev.Host] {
			return nil
		}
		prev, had := last[ev.Host]
		last[ev.Host] = ev.Status
		if reason, failed := deployFailed(ev.Status); failed {
			if !r.json {
				fmt.Fprintf(r.stdout, "%s: FAILED (%s)\n", ev.Host, reason)
			}
			return &deployFailure{host: ev.Host, reason: reason}
		}
		if !r.json && (!had || prev.State != ev.Status.State || prev.Throttled != ev.Status.Throttled) {
			fmt.Fprintf(r.stdout, "%s: %s\n", ev.Host, stateText(ev.Status))
		}
		if ev.Status.State == model.StateRunning {
			delete(pending, ev.Host)
			if len(pending) == 0 {
				return errAllRunning
			}
		}
		return nil
	})
	out := deployOutcome{Hosts: last}
	var fail *deployFailure
	switch {
	case errors.Is(err, errAllRunning):
		out.Status = outcomeDone
	case errors.As(err, &fail):
		out.Status, out.Message = outcomeFailed, fail.Error()
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		var waiting []string
		for _, h := range sortedKeys(pending) {
			st, ok := last[h]
			if !ok {
				waiting = append(waiting, h+" (no status yet)")
				continue
			}
			waiting = append(waiting, h+" ("+stateText(st)+")")
		}
		out.Status = outcomeTimeout
		out.Message = fmt.Sprintf("timed out after %s; not RUNNING: %s", timeout, strings.Join(waiting, ", "))
		if !r.json {
			fmt.Fprintln(r.stdout, out.Message)
		}
	default:
		return err // interrupted, or no master to watch with
	}
	if r.json {
		if err := writeJSON(r.stdout, out); err != nil {
			return err
		}
	}
	if out.Status != outcomeDone {
		return errFailed
	}
	return nil
}

// deployFailed tells whether a task status ends a deploy --watch as failed, and why: the
// task FAILED, or its image is missing or cannot be pulled (the agent keeps retrying, but
// a human must act).
func deployFailed(st model.TaskStatus) (string, bool) {
	imageProblem := st.Throttled == model.ThrottleImageMissing || st.Throttled == model.ThrottleImagePullFailed
	if st.State != model.StateFailed && !imageProblem {
		return "", false
	}
	var parts []string
	if st.Throttled != "" && st.Throttled != model.ThrottleNo {
		parts = append(parts, string(st.Throttled))
	}
	if st.ContainerError != "" {
		parts = append(parts, st.ContainerError)
	}
	if len(parts) == 0 {
		parts = append(parts, string(st.State))
	}
	return strings.Join(parts, ": "), true
}
