package cli

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

func (r *runner) hosts(c *ucli.Context) error {
	pos, _, _ := positionals(c)
	if len(pos) > 1 {
		return usagef("expected at most one host pattern, got %d arguments", len(pos))
	}
	pattern := ""
	if len(pos) == 1 {
		pattern = pos[0]
	}
	selectors := c.StringSlice("selector")
	if _, err := parseSelectors(selectors); err != nil {
		return usagef("%v", err)
	}
	want := strings.ToUpper(c.String("status"))
	if want != "" && want != string(model.HostUp) && want != string(model.HostDown) {
		return usagef("invalid --status %q: want UP or DOWN", c.String("status"))
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	names, err := cl.hosts(c.Context, pattern, selectors)
	if err != nil {
		return err
	}
	// As the original: no host at all is a failure, whatever narrowed the list.
	if len(names) == 0 {
		return noHosts(pattern, selectors)
	}
	sort.Strings(names)
	statuses, err := cl.hostStatuses(c.Context, names)
	if err != nil {
		return err
	}
	kept := make([]string, 0, len(names))
	for _, h := range names {
		st, ok := statuses[h]
		if want != "" && (!ok || string(st.Status) != want) {
			delete(statuses, h)
			continue
		}
		kept = append(kept, h)
	}
	switch {
	case r.json && c.Bool("quiet"):
		return writeJSON(r.stdout, kept)
	case r.json:
		return writeJSON(r.stdout, statuses)
	case c.Bool("quiet"):
		for _, h := range kept {
			fmt.Fprintln(r.stdout, h)
		}
		return nil
	}
	now := time.Now()
	t := newTable(r.stdout, "HOST", "STATUS", "DEPLOYED", "RUNNING", "CPUS", "MEM", "LOAD AVG", "MEM USAGE", "OS", "HELIOS", "DOCKER", "LABELS")
	for _, h := range kept {
		t.row(hostRow(h, statuses[h], c.Bool("full"), now)...)
	}
	return t.flush()
}

// noHosts is the failure of a host listing that found nothing.
func noHosts(pattern string, selectors []string) error {
	var msg string
	switch {
	case pattern != "" && len(selectors) > 0:
		msg = fmt.Sprintf("host pattern %s and selectors [%s] matched no hosts", pattern, strings.Join(selectors, ", "))
	case pattern != "":
		msg = fmt.Sprintf("host pattern %s matched no hosts", pattern)
	case len(selectors) > 0:
		msg = fmt.Sprintf("host selectors [%s] matched no hosts", strings.Join(selectors, ", "))
	default:
		msg = "no hosts are registered"
	}
	return &apiError{Status: model.StatusHostNotFound, Message: msg}
}

// hostRow is one line of the hosts table.
func hostRow(name string, st model.HostStatus, full bool, now time.Time) []string {
	running := 0
	for _, ts := range st.Statuses {
		if ts.State == model.StateRunning {
			running++
		}
	}
	row := []string{hostText(name, full), hostStatusText(st, now), fmt.Sprint(len(st.Jobs)), fmt.Sprint(running)}
	if hi := st.HostInfo; hi != nil {
		usage := 0.0
		if hi.MemoryTotalBytes > 0 {
			usage = float64(hi.MemoryTotalBytes-hi.MemoryFreeBytes) / float64(hi.MemoryTotalBytes)
		}
		docker := ""
		if dv := hi.DockerVersion; dv != nil {
			docker = fmt.Sprintf("%s (%s)", dv.Version, dv.APIVersion)
		}
		row = append(row, fmt.Sprint(hi.CPUs), fmt.Sprintf("%d gb", hi.MemoryTotalBytes/(1<<30)),
			fmt.Sprintf("%.2f", hi.LoadAvg), fmt.Sprintf("%.2f", usage), strings.TrimSpace(hi.OSName+" "+hi.OSVersion))
		helios := ""
		if st.AgentInfo != nil {
			helios = st.AgentInfo.Version
		}
		row = append(row, helios, docker)
	} else {
		helios := ""
		if st.AgentInfo != nil {
			helios = st.AgentInfo.Version
		}
		row = append(row, "", "", "", "", "", helios, "")
	}
	return append(row, joinMap(st.Labels, ", "))
}

// restoreSuspectedNote follows the status of a host whose agent holds back every removal
// after a suspected etcd restore, until `helios accept-restore`: in the STATUS column, after
// the original's words, so that scripts reading its first word still read Up or Down.
const restoreSuspectedNote = " (restore suspected)"

// hostStatusText is "Up 29 minutes" or "Down 3 hours", as long as it is known, followed by
// restoreSuspectedNote while the host's agent reports a suspected restore.
func hostStatusText(st model.HostStatus, now time.Time) string {
	if st.RestoreSuspected != nil {
		return upDownText(st, now) + restoreSuspectedNote
	}
	return upDownText(st, now)
}

// upDownText is the original's STATUS: "Up 29 minutes" or "Down 3 hours".
func upDownText(st model.HostStatus, now time.Time) string {
	switch st.Status {
	case model.HostUp:
		if ai := st.AgentInfo; ai != nil && ai.StartTime > 0 {
			return "Up " + humanDuration(now.Sub(time.UnixMilli(ai.StartTime)))
		}
		if ai := st.AgentInfo; ai != nil && ai.Uptime > 0 {
			return "Up " + humanDuration(time.Duration(ai.Uptime)*time.Millisecond)
		}
		return "Up"
	case model.HostDown:
		if st.DownSince > 0 {
			return "Down " + humanDuration(now.Sub(time.UnixMilli(st.DownSince)))
		}
		// The original's estimate: the agent was last alive at startTime + uptime.
		if ai := st.AgentInfo; ai != nil && ai.StartTime > 0 {
			return "Down " + humanDuration(now.Sub(time.UnixMilli(ai.StartTime+ai.Uptime)))
		}
		return "Down"
	}
	return string(st.Status)
}

func (r *runner) register(c *ucli.Context) error {
	pos, _, _ := positionals(c)
	if len(pos) != 2 {
		return usagef("expected two arguments: <host> <id> (got %d)", len(pos))
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	host, id := pos[0], pos[1]
	resp, err := cl.registerHost(c.Context, host, id)
	if err != nil {
		return err
	}
	return r.hostAnswer(fmt.Sprintf("Registering host %s with id %s", host, id), host, resp.Status, resp.Message, resp)
}

func (r *runner) deregister(c *ucli.Context) error {
	ref, err := oneArg(c, "<host>")
	if err != nil {
		return err
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	hosts, err := cl.resolveHosts(c.Context, []string{ref})
	if err != nil {
		return err
	}
	host := hosts[0]
	if !c.Bool("yes") {
		fmt.Fprintf(r.prompt(), "This will deregister the host %s\n", host)
		if !r.confirmOn(r.prompt()) {
			return &apiError{Status: "ABORTED", Message: "Aborted: not deregistering " + host}
		}
	}
	resp, err := cl.deregisterHost(c.Context, host, c.Bool("allow-up"))
	if err != nil {
		return err
	}
	return r.hostAnswer("Deregistering host "+host, host, resp.Status, resp.Message, resp)
}

// acceptRestore tells each host's agent to converge to etcd's desired state after a
// snapshot restore (docs/operations.md, "Restoring etcd from a snapshot").
func (r *runner) acceptRestore(c *ucli.Context) error {
	pos, _, _ := positionals(c)
	all := c.Bool("all")
	switch {
	case all && len(pos) > 0:
		return usagef("--all accepts for every host: name hosts or give --all, not both")
	case !all && len(pos) == 0:
		return usagef("expected one or more hosts: <host>..., or --all")
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	var hosts []string
	if all {
		hosts, err = cl.hosts(c.Context, "", nil)
	} else {
		hosts, err = cl.resolveHosts(c.Context, pos)
	}
	if err != nil {
		return err
	}
	if len(hosts) == 0 {
		fmt.Fprintln(r.stderr, "no hosts are registered: nothing to accept")
		return nil
	}
	// A fleet's worth of hosts: several requests in flight, answers printed in order.
	type answer struct {
		resp *model.HostAcceptRestoreResponse
		err  error
	}
	answers := make([]answer, len(hosts))
	sem := make(chan struct{}, statusRequestsInFlight)
	var wg sync.WaitGroup
	for i, host := range hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			answers[i].resp, answers[i].err = cl.acceptRestore(c.Context, host)
		}()
	}
	wg.Wait()
	failed := false
	for i, host := range hosts {
		if answers[i].err != nil {
			return answers[i].err
		}
		resp := answers[i].resp
		if err := r.hostAnswerNote("Accepting the restored desired state of "+host, host, resp.Status, resp.Message,
			heldNote(resp.RestoreSuspected, time.Now()), resp); err != nil {
			failed = true
		}
	}
	if failed {
		return errFailed
	}
	return nil
}

// heldNote tells, after `<host>: done`, that the host's agent was holding back after a
// suspected restore when it was accepted ("" when it reported none).
func heldNote(held *model.RestoreSuspicion, now time.Time) string {
	if held == nil {
		return ""
	}
	actions := "actions"
	if held.HeldActions == 1 {
		actions = "action"
	}
	note := fmt.Sprintf(" (its agent was holding back %d %s", held.HeldActions, actions)
	if held.Since > 0 {
		note += ", restore suspected for " + humanDuration(now.Sub(time.UnixMilli(held.Since)))
	}
	return note + ")"
}

// hostAnswer prints register's and deregister's outcome.
func (r *runner) hostAnswer(intro, host, status, message string, resp any) error {
	return r.hostAnswerNote(intro, host, status, message, "", resp)
}

// hostAnswerNote is hostAnswer with a note after `<host>: done`.
func (r *runner) hostAnswerNote(intro, host, status, message, note string, resp any) error {
	if r.json {
		if err := writeJSON(r.stdout, resp); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(r.stdout, intro)
		if status == model.StatusOK {
			fmt.Fprintf(r.stdout, "%s: done%s\n", host, note)
		} else {
			fmt.Fprintf(r.stdout, "%s: failed: %s\n", host, statusText(status, message))
		}
	}
	if status != model.StatusOK {
		return errFailed
	}
	return nil
}

// whoami prints who the master takes the caller's credentials for.
func (r *runner) whoami(c *ucli.Context) error {
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	me, err := cl.whoami(c.Context)
	if err != nil {
		return err
	}
	switch {
	case r.json:
		return writeJSON(r.stdout, me)
	case me.Authenticated:
		fmt.Fprintf(r.stdout, "%s (%s)\n", me.User, me.Role)
	default:
		fmt.Fprintln(r.stdout, "not authenticated: this master has no authentication configured, so every caller may do everything")
	}
	return nil
}

func (r *runner) masters(c *ucli.Context) error {
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	names, err := cl.masters(c.Context)
	if err != nil {
		return err
	}
	if r.json {
		if names == nil {
			names = []string{}
		}
		return writeJSON(r.stdout, names)
	}
	for _, n := range names {
		fmt.Fprintln(r.stdout, n)
	}
	return nil
}
