package cli

import (
	"fmt"
	"io"
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

// jobArg resolves the command's single <job> argument on the master.
func (r *runner) jobArg(c *ucli.Context) (*client, model.JobID, error) {
	ref, err := oneArg(c, "<job>")
	if err != nil {
		return nil, "", err
	}
	cl, err := r.api(c)
	if err != nil {
		return nil, "", err
	}
	id, err := cl.resolveJob(c.Context, ref)
	if err != nil {
		return nil, "", err
	}
	return cl, id, nil
}

func (r *runner) inspect(c *ucli.Context) error {
	cl, id, err := r.jobArg(c)
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
	printJob(r.stdout, job, r.location())
	return nil
}

// inspectTimeLayout is the original's "EEE, d MMM yyyy HH:mm:ss Z".
const inspectTimeLayout = "Mon, 2 Jan 2006 15:04:05 -0700"

// printJob writes the job's fields as the original's inspect does, in its order and
// words; the fields it did not show (creating user, labels, ramdisks, resources,
// registration domain) follow at the end.
func printJob(w io.Writer, j *model.Job, loc *time.Location) {
	line := func(k, v string) { fmt.Fprintf(w, "%s: %s\n", k, v) }
	optInt := func(p *int) string {
		if p == nil {
			return ""
		}
		return fmt.Sprint(*p)
	}
	line("Id", string(j.ID))
	line("Image", j.Image)
	created := ""
	if j.Created != nil {
		created = time.UnixMilli(*j.Created).In(loc).Format(inspectTimeLayout)
	}
	line("Created", created)
	expires := "never"
	if j.Expires != nil {
		expires = j.Expires.In(loc).Format(inspectTimeLayout)
	}
	line("Expires", expires)
	line("Hostname", j.Hostname)
	words := make([]string, len(j.Command))
	for i, c := range j.Command {
		words[i] = quoteWord(c)
	}
	line("Command", "["+strings.Join(words, ", ")+"]")
	env := map[string]string{}
	for k, v := range j.Env {
		env[k] = quoteWord(v)
	}
	printMap(w, "Env:   ", env)
	line("Health check", healthCheckText(j.HealthCheck))
	line("Grace period (seconds)", optInt(j.GracePeriod))
	line("Time to wait before kill (seconds)", optInt(j.SecondsToWaitBeforeKill))
	meta := map[string]string{}
	for k, v := range j.Metadata {
		meta[k] = quoteWord(v)
	}
	printMap(w, "Metadata: ", meta)
	ports := map[string]string{}
	for n, p := range j.Ports {
		s := fmt.Sprintf("%s:%d", p.IP, p.InternalPort)
		if p.IP == "" {
			s = fmt.Sprint(p.InternalPort)
		}
		if p.ExternalPort != nil {
			s += fmt.Sprintf(":%d", *p.ExternalPort)
		}
		ports[n] = s + "/" + p.Proto()
	}
	printMap(w, "Ports: ", ports)
	regs := map[string]string{}
	for k, sp := range j.Registration {
		regs[k] = strings.Join(sortedKeys(sp.Ports), ", ")
	}
	printMap(w, "Reg: ", regs)
	line("Security options", "["+strings.Join(j.SecurityOpt, ", ")+"]")
	line("Network mode", j.NetworkMode)
	line("Token", j.Token)
	// Volumes as docker and create's --volume write them: source:container[:mode].
	vols := make([]string, 0, len(j.Volumes))
	for _, container := range sortedKeys(j.Volumes) {
		if src := j.Volumes[container]; src != "" {
			vols = append(vols, src+":"+container)
		} else {
			vols = append(vols, container)
		}
	}
	printList(w, "Volumes: ", vols)
	line("Add capabilities", strings.Join(j.AddCapabilities, ", "))
	line("Drop capabilities", strings.Join(j.DropCapabilities, ", "))
	line("Runtime", j.Runtime)
	line("Rollout options (null options will fallback to defaults at rolling-update time)", rolloutText(j.RolloutOptions))
	line("Creating user", j.CreatingUser)
	line("Registration domain", j.RegistrationDomain)
	printMap(w, "Labels: ", j.Labels)
	printMap(w, "Ramdisks: ", j.Ramdisks)
	res := ""
	if j.Resources != nil {
		res = compactJSON(j.Resources)
	}
	line("Resources", res)
}

// printMap writes "Name: k=v" with further pairs on their own lines, aligned under the
// first, sorted by key; an empty map leaves the line with its name only.
func printMap(w io.Writer, name string, m map[string]string) {
	pairs := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		pairs = append(pairs, k+"="+m[k])
	}
	printList(w, name, pairs)
}

func printList(w io.Writer, name string, items []string) {
	fmt.Fprint(w, name)
	for i, it := range items {
		if i > 0 {
			fmt.Fprint(w, strings.Repeat(" ", len(name)))
		}
		fmt.Fprintln(w, it)
	}
	if len(items) == 0 {
		fmt.Fprintln(w)
	}
}

// healthCheckText is the original's "type: http, port: p, path: /x".
func healthCheckText(h *model.HealthCheck) string {
	if h == nil {
		return ""
	}
	s := "type: " + h.Type
	switch h.Type {
	case model.HealthCheckHTTP:
		s += fmt.Sprintf(", port: %s, path: %s", h.Port, h.Path)
	case model.HealthCheckTCP:
		s += ", port: " + h.Port
	case model.HealthCheckExec:
		s += ", command: " + strings.Join(h.Command, " ")
	}
	return s
}

// rolloutText lists the rollout options the job sets, in the original's order.
func rolloutText(ro *model.RolloutOptions) string {
	if ro == nil {
		return ""
	}
	var parts []string
	add := func(k string, v any) { parts = append(parts, fmt.Sprintf("%s: %v", k, v)) }
	if ro.Timeout != nil {
		add("timeout", *ro.Timeout)
	}
	if ro.Parallelism != nil {
		add("parallelism", *ro.Parallelism)
	}
	if ro.Migrate != nil {
		add("migrate", *ro.Migrate)
	}
	if ro.Overlap != nil {
		add("overlap", *ro.Overlap)
	}
	if ro.Token != nil {
		add("token", *ro.Token)
	}
	if ro.IgnoreFailures != nil {
		add("ignoreFailures", *ro.IgnoreFailures)
	}
	return strings.Join(parts, ", ")
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
	jobs, statuses, err := cl.jobsWithStatuses(c.Context, pattern, statusParts{omitJobs: true, omitTaskStatuses: true})
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
	sortJobIDs(ids)
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
	cl, id, err := r.jobArg(c)
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
		fmt.Fprintf(r.stdout, "Removing job %s\n%s: done\n", id, id)
	} else {
		fmt.Fprintf(r.stdout, "Removing job %s\n%s: failed: %s\n", id, id, statusText(resp.Status, resp.Message))
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
