package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

// createResult is create's --json output: the master's CreateJobResponse plus a message.
type createResult struct {
	Status  string      `json:"status"`
	Message string      `json:"message,omitempty"`
	Errors  []string    `json:"errors,omitempty"`
	ID      model.JobID `json:"id,omitempty"`
}

func (r *runner) create(c *ucli.Context) error {
	pos, rest, dashdash := positionals(c)
	if c.IsSet("file") && c.IsSet("template") {
		return usagef("give either -f/--file or -t/--template, not both")
	}
	job, err := r.baseJob(c)
	if err != nil {
		return err
	}
	name, version := job.ID.Name(), job.ID.Version()
	if len(pos) > 0 {
		if name, version, err = model.ParseNameVersion(pos[0]); err != nil {
			return usagef("%v", err)
		}
	} else if name == "" || version == "" {
		return usagef("the job's name:version is required")
	}
	if len(pos) > 1 {
		job.Image = pos[1]
	}
	if job.Image == "" {
		return usagef("an image is required")
	}
	if len(pos) > 2 || dashdash {
		job.Command = append(append([]string{}, pos[min(len(pos), 2):]...), rest...)
	}
	if err := applyCreateFlags(c, &job, r.env); err != nil {
		return err
	}
	job.ID, job.Created, job.CreatingUser = model.NewJobID(name, version, ""), nil, ""
	job.Normalize()
	if job, err = model.WithComputedID(name, version, job); err != nil {
		return fmt.Errorf("compute job id: %w", err)
	}

	quiet := c.Bool("quiet") || r.json
	if !quiet {
		fmt.Fprintf(r.stdout, "Creating job: %s\n", compactJSON(job))
	}
	// Refuse here what any master would refuse. Capabilities depend on the master's
	// whitelist, so they alone do not stop the request; but when something else does,
	// list them too, so the user fixes everything at once.
	now := time.Now()
	if errs := model.ValidateJob(&job, model.ValidateOptions{CapabilityWhitelist: job.AddCapabilities, Now: now}); len(errs) > 0 {
		all := model.ValidateJob(&job, model.ValidateOptions{Now: now})
		return r.createFailed(createResult{Status: model.StatusInvalidJobDefinition, Errors: all, ID: job.ID})
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	resp, err := cl.createJob(c.Context, &job)
	if err != nil {
		return err
	}
	if resp.Status != model.StatusOK {
		return r.createFailed(createResult{Status: resp.Status, Errors: resp.Errors, ID: resp.ID})
	}
	if resp.ID == "" {
		resp.ID = job.ID
	}
	switch {
	case r.json:
		return writeJSON(r.stdout, createResult{Status: resp.Status, ID: resp.ID})
	case !quiet:
		fmt.Fprintln(r.stdout, "Done.")
	}
	fmt.Fprintln(r.stdout, resp.ID)
	return nil
}

func (r *runner) createFailed(res createResult) error {
	res.Message = strings.Join(res.Errors, "; ")
	if res.Message == "" {
		res.Message = res.Status
	}
	if r.json {
		_ = writeJSON(r.stdout, res)
		return errFailed
	}
	fmt.Fprintf(r.stderr, "Failed: %s\n", res.Status)
	for _, e := range res.Errors {
		fmt.Fprintf(r.stderr, "  %s\n", e)
	}
	return errFailed
}

// baseJob is the job create starts from: the -f file, the -t template or nothing.
func (r *runner) baseJob(c *ucli.Context) (model.Job, error) {
	if f := c.String("file"); f != "" {
		var data []byte
		var err error
		if f == "-" {
			data, err = io.ReadAll(r.stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			return model.Job{}, fmt.Errorf("read job file: %w", err)
		}
		job, unknown, err := model.ParseJobJSON(data)
		if err != nil {
			return model.Job{}, usagef("job file %s: %v", f, err)
		}
		if len(unknown) > 0 {
			fmt.Fprintf(r.stderr, "Warning: ignoring unknown fields in %s: %s\n", f, strings.Join(unknown, ", "))
		}
		return job, nil
	}
	if t := c.String("template"); t != "" {
		cl, err := r.api(c)
		if err != nil {
			return model.Job{}, err
		}
		id, err := cl.resolveJob(c.Context, t)
		if err != nil {
			return model.Job{}, err
		}
		job, err := cl.job(c.Context, id)
		if err != nil {
			return model.Job{}, err
		}
		return *job, nil
	}
	return model.Job{}, nil
}

// applyCreateFlags lays the command line over the job: scalars replace, maps merge key by
// key, lists replace, rollout options merge field by field. The flags win everywhere.
func applyCreateFlags(c *ucli.Context, job *model.Job, env func(string) string) error {
	for flag, dst := range map[string]*string{
		"hostname": &job.Hostname, "token": &job.Token, "registration-domain": &job.RegistrationDomain,
		"network-mode": &job.NetworkMode, "runtime": &job.Runtime,
	} {
		if c.IsSet(flag) {
			*dst = c.String(flag)
		}
	}
	envVars, err := parseKVs("--env", c.StringSlice("env"))
	if err != nil {
		return usagef("%v", err)
	}
	job.Env = mergeMap(job.Env, envVars)
	if gc := env("GIT_COMMIT"); gc != "" {
		job.Metadata = mergeMap(job.Metadata, map[string]string{"GIT_COMMIT": gc})
	}
	meta, err := parseKVs("--metadata", c.StringSlice("metadata"))
	if err != nil {
		return usagef("%v", err)
	}
	job.Metadata = mergeMap(job.Metadata, meta)
	labels, err := parseKVs("--labels", c.StringSlice("labels"))
	if err != nil {
		return usagef("%v", err)
	}
	job.Labels = mergeMap(job.Labels, labels)
	ports, err := parsePorts(c.StringSlice("port"))
	if err != nil {
		return usagef("%v", err)
	}
	job.Ports = mergeMap(job.Ports, ports)
	regs, err := buildRegistrations(c.StringSlice("register"), job.Ports)
	if err != nil {
		return usagef("%v", err)
	}
	job.Registration = mergeMap(job.Registration, regs)
	vols, err := parseVolumes(c.StringSlice("volume"))
	if err != nil {
		return usagef("%v", err)
	}
	job.Volumes = mergeMap(job.Volumes, vols)
	if c.IsSet("grace-period") {
		g := c.Int("grace-period")
		job.GracePeriod = &g
	}
	if c.IsSet("expires") {
		t, err := parseExpiresFlag(c.String("expires"))
		if err != nil {
			return usagef("%v", err)
		}
		job.Expires = &t
	}
	checks := 0
	if c.IsSet("exec-check") {
		checks++
		cmd := strings.Fields(c.String("exec-check"))
		if len(cmd) == 0 {
			return usagef("invalid --exec-check: the command is empty")
		}
		job.HealthCheck = &model.HealthCheck{Type: model.HealthCheckExec, Command: cmd}
	}
	if c.IsSet("http-check") {
		checks++
		hc, err := parseHTTPCheck(c.String("http-check"))
		if err != nil {
			return usagef("%v", err)
		}
		job.HealthCheck = hc
	}
	if c.IsSet("tcp-check") {
		checks++
		if c.String("tcp-check") == "" {
			return usagef("invalid --tcp-check: the port name is empty")
		}
		job.HealthCheck = &model.HealthCheck{Type: model.HealthCheckTCP, Port: c.String("tcp-check")}
	}
	if checks > 1 {
		return usagef("only one health check may be given: --exec-check, --http-check or --tcp-check")
	}
	for flag, dst := range map[string]*[]string{
		"security-opt": &job.SecurityOpt, "add-capability": &job.AddCapabilities, "drop-capability": &job.DropCapabilities,
	} {
		if c.IsSet(flag) {
			*dst = c.StringSlice(flag)
		}
	}
	ro, err := parseRolloutOptions(c.StringSlice("rollout-options"))
	if err != nil {
		return usagef("%v", err)
	}
	if ro != nil {
		merged := mergeRollout(ro, job.RolloutOptions)
		job.RolloutOptions = &merged
	}
	return nil
}

// mergeMap returns base with over's entries laid on top; nil when both are empty.
func mergeMap[V any](base, over map[string]V) map[string]V {
	if len(over) == 0 {
		return base
	}
	out := make(map[string]V, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// parseExpiresFlag reads --expires: an ISO-8601 date-time; without a zone it is UTC.
func parseExpiresFlag(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid --expires %q: want an ISO-8601 date-time such as 2030-06-01T12:00:00Z", s)
}

// mergeRollout lays the flags' rollout options over the job's, field by field, without
// filling defaults: the job keeps only what someone asked for.
func mergeRollout(over, base *model.RolloutOptions) model.RolloutOptions {
	out := model.RolloutOptions{}
	if base != nil {
		out = *base
	}
	if over.Timeout != nil {
		out.Timeout = over.Timeout
	}
	if over.Parallelism != nil {
		out.Parallelism = over.Parallelism
	}
	if over.Migrate != nil {
		out.Migrate = over.Migrate
	}
	if over.Overlap != nil {
		out.Overlap = over.Overlap
	}
	if over.Token != nil {
		out.Token = over.Token
	}
	if over.IgnoreFailures != nil {
		out.IgnoreFailures = over.IgnoreFailures
	}
	return out
}
