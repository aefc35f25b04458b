package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

func (r *runner) status(c *ucli.Context) error {
	if pos, _, _ := positionals(c); len(pos) > 0 {
		return usagef("status takes no arguments (use --job and --host), got %q", strings.Join(pos, " "))
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	jobRef, hostPattern, full := c.String("job"), c.String("host"), c.Bool("full")
	// The statuses of every listed job are asked for while the list is read, before the
	// reference picks among them: one job more or less costs less than waiting. The JSON
	// output shows the task statuses as the master has them, each with its job.
	jobs, statuses, err := cl.jobsWithStatuses(c.Context, jobRef, statusParts{omitJobs: !r.json})
	if err != nil {
		return err
	}
	if jobRef != "" && len(jobs) == 0 {
		return &apiError{Status: model.StatusJobNotFound, Message: fmt.Sprintf("job id matcher %q matched no jobs", jobRef)}
	}
	// A reference naming one job exactly (name:version, full id) shows that job only.
	if jobRef != "" {
		if id, err := pickJob(jobRef, jobs); err == nil && (jobs[model.JobID(jobRef)].ID != "" || strings.HasPrefix(string(id), jobRef+":")) {
			jobs = map[model.JobID]model.Job{id: jobs[id]}
		}
	}
	ids := make([]model.JobID, 0, len(jobs))
	for id := range jobs {
		ids = append(ids, id)
	}
	sortJobIDs(ids)
	type row struct {
		id   model.JobID
		host string
	}
	var rows []row
	out := map[model.JobID]model.JobStatus{}
	for _, id := range ids {
		st := statuses[id]
		hosts := map[string]bool{}
		for h := range st.Deployments {
			hosts[h] = true
		}
		for h := range st.TaskStatuses {
			hosts[h] = true
		}
		filtered := model.JobStatus{Job: st.Job, Deployments: map[string]model.Deployment{}, TaskStatuses: map[string]model.TaskStatus{}}
		for _, h := range sortedKeys(hosts) {
			if hostPattern != "" && !strings.Contains(h, hostPattern) {
				continue
			}
			rows = append(rows, row{id, h})
			if d, ok := st.Deployments[h]; ok {
				filtered.Deployments[h] = d
			}
			if ts, ok := st.TaskStatuses[h]; ok {
				filtered.TaskStatuses[h] = ts
			}
		}
		if hostPattern == "" || len(filtered.Deployments)+len(filtered.TaskStatuses) > 0 {
			if filtered.Job == nil {
				j := jobs[id]
				filtered.Job = &j
			}
			out[id] = filtered
		}
	}
	if hostPattern != "" && len(out) == 0 {
		hostsCmd := "helios hosts " + hostPattern
		if d := c.StringSlice(flagDomains); len(d) > 0 {
			hostsCmd = "helios -d " + strings.Join(splitDomains(d), ",") + " hosts " + hostPattern
		}
		return &apiError{Status: model.StatusHostNotFound, Message: fmt.Sprintf(
			"There are no jobs deployed to hosts with the host pattern '%s'\nRun '%s' to check your host exists and is up.", hostPattern, hostsCmd)}
	}
	if r.json {
		return writeJSON(r.stdout, out)
	}
	t := newTable(r.stdout, "JOB ID", "HOST", "GOAL", "STATE", "CONTAINER ID", "PORTS")
	// As the original: a job deployed nowhere has no row; GOAL is the deployment's goal.
	for _, rw := range rows {
		st := statuses[rw.id]
		goal := ""
		if d, ok := st.Deployments[rw.host]; ok {
			goal = string(d.Goal)
		}
		ts, ok := st.TaskStatuses[rw.host]
		if !ok {
			t.row(jobIDText(rw.id, full), hostText(rw.host, full), goal, "", "", "")
			continue
		}
		cid := truncate(ts.ContainerID, statusContainerIDLen, full)
		t.row(jobIDText(rw.id, full), hostText(rw.host, full), goal, stateText(ts), cid, formatPorts(ts.Ports))
	}
	return t.flush()
}

func (r *runner) history(c *ucli.Context) error {
	cl, id, err := r.jobArg(c)
	if err != nil {
		return err
	}
	events, err := cl.history(c.Context, id)
	if err != nil {
		return err
	}
	sort.SliceStable(events, func(i, k int) bool { return events[i].Timestamp < events[k].Timestamp })
	if r.json {
		if events == nil {
			events = []model.TaskStatusEvent{}
		}
		return writeJSON(r.stdout, model.TaskStatusEvents{Events: events})
	}
	loc := r.location()
	t := newTable(r.stdout, "HOST", "TIMESTAMP", "STATE", "THROTTLED", "CONTAINERID")
	for _, e := range events {
		throttled := string(e.Status.Throttled)
		if throttled == "" {
			throttled = string(model.ThrottleNo)
		}
		t.row(e.Host, time.UnixMilli(e.Timestamp).In(loc).Format(historyTimeLayout), string(e.Status.State),
			throttled, shortContainerID(e.Status.ContainerID, c.Bool("full")))
	}
	return t.flush()
}

// location is the time zone timestamps are shown in: $TZ from the run's environment, else
// the process's local zone.
func (r *runner) location() *time.Location {
	if tz := r.env("TZ"); tz != "" {
		if loc, err := time.LoadLocation(strings.TrimPrefix(tz, ":")); err == nil {
			return loc
		}
	}
	return time.Local
}
