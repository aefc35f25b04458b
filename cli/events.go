package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

// statusRevisionCompacted is the master's answer (410) to a revision etcd no longer keeps.
const statusRevisionCompacted = "REVISION_COMPACTED"

// eventsCommand is `helios events`.
func (r *runner) eventsCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "events",
		Usage:     "follow the cluster's event stream",
		UsageText: "helios events [options]\n\n   helios events\n   helios events --from-revision 1234\n   helios events --json",
		Description: "Prints every change of the cluster as the master sees it: jobs created and removed, deployments and goals, " +
			"task states, hosts up, down, registered and deregistered, deployment group rollouts, masters. One line each: " +
			"TIME REVISION TYPE NAMES DETAILS (--json: one event per line). A broken stream is resumed from the last " +
			"revision seen, without gaps or repeats; if etcd has compacted it away, a warning says events were missed and " +
			"the stream starts from now. Runs until interrupted (Ctrl-C, exit 0).",
		Flags: []ucli.Flag{
			&ucli.Int64Flag{Name: "from-revision", Usage: "start with the events of this etcd `REVISION` (as printed) and go on from there"},
		},
		Action: r.events,
	}
}

func (r *runner) events(c *ucli.Context) error {
	if c.Args().Len() > 0 {
		return usagef("events takes no arguments")
	}
	from := c.Int64("from-revision")
	if from < 0 {
		return usagef("--from-revision %d: want a positive etcd revision", from)
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	p := clusterEventPrinter{w: r.stdout, json: r.json, loc: r.location()}
	err = cl.followEvents(c.Context, from, p.print, func(msg string) { fmt.Fprintln(r.stderr, "warning: "+msg) })
	if errors.Is(err, context.Canceled) && c.Context.Err() != nil {
		return nil // Ctrl-C is how it ends
	}
	return err
}

// eventCursor is where a follower of GET /events stands: the last event it handled.
type eventCursor struct {
	rev   int64
	index int
	seen  bool
}

// fresh tells whether ev was not handled yet: a stream resumed at the last revision seen
// gives that revision's events again.
func (c *eventCursor) fresh(ev model.ClusterEvent) bool {
	if c.seen && !ev.After(c.rev, c.index) {
		return false
	}
	c.rev, c.index, c.seen = ev.Revision, ev.Index, true
	return true
}

// followEvents follows GET /events from revision from (0: now) and calls fn with each
// event once, in order, until ctx ends (ctx.Err()) or the master refuses (its error).
// A stream that breaks, goes silent or is cut off is reopened at the last revision seen;
// one whose revisions are compacted away starts again from now, after warn says so.
func (c *client) followEvents(ctx context.Context, from int64, fn func(model.ClusterEvent), warn func(string)) error {
	var cur eventCursor
	reopen := c.reopener()
	for {
		query := url.Values{}
		switch {
		case cur.seen:
			query.Set("fromRevision", strconv.FormatInt(cur.rev, 10))
		case from > 0:
			query.Set("fromRevision", strconv.FormatInt(from, 10))
		}
		var final *model.ClusterEvent
		err := c.stream(ctx, "/events", query, func(line []byte) error {
			reopen.line()
			var ev model.ClusterEvent
			if err := json.Unmarshal(line, &ev); err != nil {
				return fmt.Errorf("decode event %q: %w", line, err)
			}
			if ev.Type.Terminal() {
				final = &ev
				return nil
			}
			if cur.fresh(ev) {
				fn(ev)
			}
			return nil
		})
		var ae *apiError
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &ae) && ae.Status == statusRevisionCompacted,
			final != nil && final.Type == model.EventStreamCompacted:
			warn(fmt.Sprintf("events were missed: etcd no longer keeps the revisions after %d; following from now", max(cur.rev, from-1)))
			cur, from = eventCursor{}, 0
			continue // at once: nothing to wait for
		case errors.As(err, &ae):
			return err
		case final != nil:
			c.log("event stream ended (%s: %s), resuming", final.Type, final.Message)
		default:
			c.log("event stream ended, reconnecting: %v", err)
		}
		if err := reopen.wait(ctx); err != nil {
			return err
		}
	}
}

// clusterEventPrinter prints events as text lines or JSON documents.
type clusterEventPrinter struct {
	w    io.Writer
	json bool
	loc  *time.Location
}

func (p clusterEventPrinter) print(ev model.ClusterEvent) {
	if p.json {
		fmt.Fprintln(p.w, compactJSON(ev))
		return
	}
	fields := []string{time.UnixMilli(ev.Time).In(p.loc).Format(historyTimeLayout), strconv.FormatInt(ev.Revision, 10), fmt.Sprintf("%-17s", ev.Type)}
	for _, kv := range [][2]string{{"host", ev.Host}, {"job", string(ev.JobID)}, {"group", ev.Group}, {"master", ev.Master}} {
		if kv[1] != "" {
			fields = append(fields, kv[0]+"="+kv[1])
		}
	}
	if d := eventDetails(ev.Payload); d != "" {
		fields = append(fields, d)
	}
	fmt.Fprintln(p.w, strings.Join(fields, "  "))
}

// eventDetails is a payload in words: "state=RUNNING (was CREATING)".
func eventDetails(p *model.EventPayload) string {
	if p == nil {
		return ""
	}
	var out []string
	was := func(name, now, before string) {
		if now == "" {
			return
		}
		s := name + "=" + now
		if before != "" {
			s += " (was " + before + ")"
		}
		out = append(out, s)
	}
	was("image", p.Image, "")
	was("state", string(p.State), string(p.PreviousState))
	was("goal", string(p.Goal), string(p.PreviousGoal))
	was("group-state", string(p.GroupState), "")
	if p.RolloutJobID != "" {
		out = append(out, fmt.Sprintf("rollout=%s step=%d/%d", p.RolloutJobID, p.TaskIndex, p.Tasks))
	}
	was("error", p.Error, "")
	return strings.Join(out, " ")
}
