package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

// oneArg returns the single positional a command requires.
func oneArg(c *ucli.Context, what string) (string, error) {
	pos, _, _ := positionals(c)
	if len(pos) != 1 {
		return "", usagef("expected exactly one argument: %s (got %d)", what, len(pos))
	}
	return pos[0], nil
}

func (r *runner) inspect(c *ucli.Context) error {
	ref, err := oneArg(c, "<job>")
	if err != nil {
		return err
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	id, err := cl.resolveJob(c.Context, ref)
	if err != nil {
		return err
	}
	job, err := cl.job(c.Context, id)
	if err != nil {
		return err
	}
	if r.json {
		return writeJSON(r.stdout, job)
	}
	printJob(r.stdout, job)
	return nil
}

// printJob writes the job's fields one per line, as the original's inspect does.
func printJob(w interface{ Write([]byte) (int, error) }, j *model.Job) {
	line := func(k, v string) { fmt.Fprintf(w, "%s: %s\n", k, v) }
	line("Id", string(j.ID))
	line("Image", j.Image)
	if j.Created != nil {
		line("Created", time.UnixMilli(*j.Created).UTC().Format(time.RFC3339))
	} else {
		line("Created", "")
	}
	if j.Expires != nil {
		line("Expires", j.Expires.UTC().Format(time.RFC3339))
	} else {
		line("Expires", "never")
	}
	line("Creating user", j.CreatingUser)
	line("Hostname", j.Hostname)
	line("Command", quoteCommand(j.Command))
	block := func(k string, m map[string]string) {
		fmt.Fprintf(w, "%s:", k)
		if len(m) == 0 {
			fmt.Fprintln(w)
			return
		}
		fmt.Fprintln(w)
		for _, key := range sortedKeys(m) {
			fmt.Fprintf(w, "  %s=%s\n", key, m[key])
		}
	}
	block("Env", j.Env)
	hc := ""
	if h := j.HealthCheck; h != nil {
		switch h.Type {
		case model.HealthCheckHTTP:
			hc = fmt.Sprintf("http %s:%s", h.Port, h.Path)
		case model.HealthCheckTCP:
			hc = "tcp " + h.Port
		default:
			hc = h.Type + " " + quoteCommand(h.Command)
		}
	}
	line("Health check", hc)
	optInt := func(p *int) string {
		if p == nil {
			return ""
		}
		return fmt.Sprint(*p)
	}
	line("Grace period (seconds)", optInt(j.GracePeriod))
	line("Time to wait before kill (seconds)", fmt.Sprint(int(j.KillTimeout()/time.Second)))
	block("Metadata", j.Metadata)
	ports := map[string]string{}
	for n, p := range j.Ports {
		s := fmt.Sprintf("%d", p.InternalPort)
		if p.ExternalPort != nil {
			s += fmt.Sprintf(":%d", *p.ExternalPort)
		}
		if p.IP != "" {
			s = p.IP + ":" + s
		}
		ports[n] = s + "/" + p.Proto()
	}
	block("Ports", ports)
	regs := map[string]string{}
	for k, sp := range j.Registration {
		regs[k] = strings.Join(sortedKeys(sp.Ports), ",")
	}
	block("Reg", regs)
	line("Registration domain", j.RegistrationDomain)
	line("Security options", strings.Join(j.SecurityOpt, ", "))
	line("Network mode", j.NetworkMode)
	line("Token", j.Token)
	block("Volumes", j.Volumes)
	line("Add capabilities", strings.Join(j.AddCapabilities, ", "))
	line("Drop capabilities", strings.Join(j.DropCapabilities, ", "))
	block("Labels", j.Labels)
	block("Ramdisks", j.Ramdisks)
	ro := ""
	if j.RolloutOptions != nil {
		ro = compactJSON(j.RolloutOptions)
	}
	line("Rollout options", ro)
	line("Runtime", j.Runtime)
}

func (r *runner) jobs(c *ucli.Context) error {
	pos, _, _ := positionals(c)
	if len(pos) > 1 {
		return usagef("expected at most one job pattern, got %d arguments", len(pos))
	}
	pattern := ""
	if len(pos) == 1 {
		pattern = pos[0]
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	jobs, err := cl.jobs(c.Context, pattern)
	if err != nil {
		return err
	}
	if pattern != "" && len(jobs) == 0 {
		return &apiError{Status: model.StatusJobNotFound, Message: fmt.Sprintf("job pattern %s matched no jobs", pattern)}
	}
	ids := make([]model.JobID, 0, len(jobs))
	for id := range jobs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, k int) bool { return ids[i] < ids[k] })
	statuses, err := cl.jobStatuses(c.Context, ids)
	if err != nil {
		return err
	}
	if c.Bool("deployed") {
		kept := ids[:0]
		for _, id := range ids {
			if len(statuses[id].Deployments) > 0 {
				kept = append(kept, id)
			} else {
				delete(jobs, id)
			}
		}
		ids = kept
	}
	switch {
	case r.json && c.Bool("quiet"):
		return writeJSON(r.stdout, ids)
	case r.json:
		return writeJSON(r.stdout, jobs)
	case c.Bool("quiet"):
		for _, id := range ids {
			fmt.Fprintln(r.stdout, id)
		}
		return nil
	}
	t := newTable(r.stdout, "JOB ID", "NAME", "VERSION", "HOSTS", "COMMAND", "ENVIRONMENT")
	for _, id := range ids {
		j := jobs[id]
		t.row(jobIDText(id, c.Bool("full")), id.Name(), id.Version(), fmt.Sprint(len(statuses[id].Deployments)),
			quoteCommand(j.Command), joinMap(j.Env, " "))
	}
	return t.flush()
}

func (r *runner) remove(c *ucli.Context) error {
	ref, err := oneArg(c, "<job>")
	if err != nil {
		return err
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	id, err := cl.resolveJob(c.Context, ref)
	if err != nil {
		return err
	}
	if !c.Bool("yes") {
		fmt.Fprintf(r.prompt(), "This will remove the job %s\n", id)
		if !r.confirmOn(r.prompt()) {
			return &apiError{Status: "ABORTED", Message: "Aborted: not removing " + string(id)}
		}
	}
	resp, err := cl.removeJob(c.Context, id, c.String("token"))
	if err != nil {
		return err
	}
	if r.json {
		if err := writeJSON(r.stdout, resp); err != nil {
			return err
		}
	} else if resp.Status == model.StatusOK {
		fmt.Fprintf(r.stdout, "Removing job %s: done\n", id)
	} else {
		fmt.Fprintf(r.stdout, "Removing job %s: failed: %s\n", id, statusText(resp.Status, resp.Message))
	}
	if resp.Status != model.StatusOK {
		return errFailed
	}
	return nil
}

// statusText is "STATUS (message)", or the status alone.
func statusText(status, message string) string {
	if message == "" {
		return status
	}
	return status + " (" + message + ")"
}
