package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

// Run executes one `helios` command line (args without the program name) and returns the
// exit code: 0 on success, 1 on any failure. Everything it needs comes in: no globals.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if env == nil {
		env = func(string) string { return "" }
	}
	return newRunner(stdin, stdout, stderr, env).run(ctx, args)
}

func newRunner(stdin io.Reader, stdout, stderr io.Writer, env func(string) string) *runner {
	return &runner{stdin: bufio.NewReader(stdin), stdout: stdout, stderr: stderr, env: env, retryDelay: defaultRetryDelay}
}

// run executes one command line; see Run.
func (r *runner) run(ctx context.Context, args []string) int {
	app := r.newApp()
	normalized := normalizeArgs(args, specFromApp(app))
	// --json must shape even the errors urfave finds before any Before hook runs (a bad
	// global flag value), so it is looked for here first.
	r.json = wantsJSON(normalized)
	err := r.runApp(ctx, app, normalized)
	if err == nil || errors.Is(err, errDone) {
		return 0
	}
	r.report(err)
	return 1
}

// runApp runs the parsed command line. A shell completion request that still trips urfave
// (a flag with a bad value before the cursor) completes nothing rather than printing a
// panic into the user's shell.
func (r *runner) runApp(ctx context.Context, app *ucli.App, args []string) (err error) {
	if len(args) > 0 && args[len(args)-1] == completionFlag {
		defer func() {
			if recover() != nil {
				err = nil
			}
		}()
	}
	return app.RunContext(ctx, append([]string{"helios"}, args...))
}

// wantsJSON tells whether --json is among the flags (before any "--").
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "-json", "--json=true", "-json=true":
			return true
		}
	}
	return false
}

// runner holds one run's streams, environment and (lazily) its master client.
type runner struct {
	stdin  *bufio.Reader
	stdout io.Writer
	stderr io.Writer
	env    func(string) string
	json   bool // --json seen
	cmd    string
	client *client
	// retryDelay is the wait before each retry; tests shorten it.
	retryDelay func(attempt int) time.Duration
}

// errDone ends a run successfully without running a command (--version).
var errDone = errors.New("done")

// errFailed is a failure the command has already printed; only the exit code remains.
var errFailed = errors.New("failed")

// usageError is a bad command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// statusInvalidArguments is the status word of a bad command line in --json output.
const statusInvalidArguments = "INVALID_ARGUMENTS"

// report prints a failure: a JSON object with --json, else a line on stderr.
func (r *runner) report(err error) {
	if errors.Is(err, errFailed) {
		return
	}
	var ae *apiError
	var ue *usageError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &ue):
		ae = &apiError{Status: statusInvalidArguments, Message: ue.msg}
	case errors.Is(err, context.Canceled):
		ae = &apiError{Status: "CANCELLED", Message: "interrupted"}
	default:
		ae = &apiError{Status: "ERROR", Message: err.Error()}
	}
	if r.json {
		_ = writeJSON(r.stdout, ae)
		return
	}
	msg := ae.Message
	if msg == "" {
		msg = ae.Status
	} else if ae.Code != 0 && !strings.Contains(msg, ae.Status) {
		msg = ae.Status + ": " + msg
	}
	fmt.Fprintln(r.stderr, msg)
	for _, e := range ae.Errors {
		if e != ae.Message {
			fmt.Fprintf(r.stderr, "  %s\n", e)
		}
	}
	if ae.Hint != "" {
		fmt.Fprintln(r.stderr, ae.Hint)
	}
	if ue != nil && r.cmd != "" {
		fmt.Fprintf(r.stderr, "Run 'helios help %s' for usage.\n", r.cmd)
	}
}

// Global flag names.
const (
	flagMaster       = "master"
	flagDomains      = "domains"
	flagSRVName      = "srv-name"
	flagResolver     = "resolver"
	flagUsername     = "username"
	flagVerbose      = "verbose"
	flagJSON         = "json"
	flagVersion      = "version"
	flagHTTPTimeout  = "http-timeout"
	flagRetryTimeout = "retry-timeout"
	flagInsecure     = "insecure"
)

// Timeouts: the flag wins, then the original's environment variables, then the default.
const (
	envHTTPTimeout      = "HELIOS_CLI_HTTP_TIMEOUT"
	envRetryTimeout     = "HELIOS_CLI_TOTAL_TIMEOUT"
	defaultHTTPTimeout  = 60
	defaultRetryTimeout = 240
)

// timeoutSetting reads a timeout flag, falling back to its environment variable.
func (r *runner) timeoutSetting(c *ucli.Context, flag, env string) (time.Duration, error) {
	secs := c.Int(flag)
	if !c.IsSet(flag) {
		if v := r.env(env); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return 0, usagef("invalid %s=%q: want a number of seconds", env, v)
			}
			secs = n
		}
	}
	if secs < 0 {
		return 0, usagef("invalid --%s %d: want a number of seconds", flag, secs)
	}
	return time.Duration(secs) * time.Second, nil
}

func (r *runner) newApp() *ucli.App {
	verbosity := 0
	app := &ucli.App{
		Name:  "helios",
		Usage: "deploy and run Docker containers across a fleet of hosts",
		UsageText: "helios [global options] command [command options] [arguments...]\n\n" +
			"Flags may come before or after the arguments; everything after -- is passed on as is.\n" +
			"   helios -z http://localhost:5801 jobs\n" +
			"   helios create testjob:1 ubuntu:12.04 --env FOO=bar -- /bin/sh -c 'echo $FOO'",
		HideVersion:               true,
		EnableBashCompletion:      true,
		DisableSliceFlagSeparator: true,
		UseShortOptionHandling:    true,
		Suggest:                   true,
		Reader:                    r.stdin,
		Writer:                    r.stdout,
		ErrWriter:                 r.stderr,
		// Errors are printed once, by Run; urfave must not exit the process.
		ExitErrHandler: func(*ucli.Context, error) {},
		OnUsageError: func(_ *ucli.Context, err error, _ bool) error {
			return &usageError{msg: err.Error()}
		},
		Flags: append([]ucli.Flag{
			&ucli.StringSliceFlag{Name: flagMaster, Aliases: []string{"z"}, Usage: "master `URI` (repeatable), e.g. http://localhost:5801"},
			&ucli.StringSliceFlag{Name: flagDomains, Aliases: []string{"d"}, Usage: "find masters by DNS SRV in these `DOMAINS` (repeatable, comma-separated)"},
			&ucli.StringFlag{Name: flagSRVName, Usage: "SRV service `NAME`: masters are looked up as _NAME._http.DOMAIN (default helios)"},
			&ucli.StringFlag{Name: flagResolver, Usage: "ask this DNS server `HOST:PORT` for SRV and host lookups (env HELIOS_RESOLVER)"},
			&ucli.StringFlag{Name: flagUsername, Aliases: []string{"u"}, Usage: "user `NAME` sent to the master (default: the OS user)"},
			&ucli.BoolFlag{Name: flagVerbose, Aliases: []string{"v"}, Usage: "verbose: log requests to stderr (repeat for more)", Count: &verbosity},
			&ucli.BoolFlag{Name: flagJSON, Usage: "print JSON instead of text, errors included"},
			&ucli.BoolFlag{Name: flagVersion, Usage: "print the client version (and the master's, if reachable)"},
			&ucli.BoolFlag{Name: flagInsecure, Aliases: []string{"k"}, Usage: "do not verify the TLS certificates of HTTPS masters (like curl -k)"},
			&ucli.IntFlag{Name: flagHTTPTimeout, Value: defaultHTTPTimeout, Usage: "`SECONDS` to wait for one HTTP answer (env " + envHTTPTimeout + ")"},
			&ucli.IntFlag{Name: flagRetryTimeout, Value: defaultRetryTimeout, Usage: "`SECONDS` to keep retrying unreachable or unavailable masters (env " + envRetryTimeout + ")"},
		}, credentialFlags()...),
		Before: func(c *ucli.Context) error {
			r.json = c.Bool(flagJSON)
			if args := c.Args(); args.Present() && c.App.Command(args.First()) != nil {
				r.cmd = args.First()
			}
			if c.Bool(flagVersion) {
				r.printVersion(c, true)
				return errDone
			}
			return nil
		},
		// Without a command the original prints its help and fails; an unknown command is
		// a bad command line like any other.
		Action: func(c *ucli.Context) error {
			if c.Args().Present() {
				return usagef("unknown command %q: run 'helios --help' for the list of commands", c.Args().First())
			}
			if !r.json {
				_ = ucli.ShowAppHelp(c)
			}
			return usagef("a command is required: run 'helios --help' for the list of commands")
		},
		Commands: r.commands(),
	}
	return app
}

// source reads where masters come from out of the global flags and the environment.
func (r *runner) source(c *ucli.Context) (masterSource, error) {
	src := masterSource{
		URIs:     c.StringSlice(flagMaster),
		Domains:  splitDomains(c.StringSlice(flagDomains)),
		SRVName:  c.String(flagSRVName),
		Resolver: c.String(flagResolver),
	}
	if src.Resolver == "" {
		src.Resolver = r.env("HELIOS_RESOLVER")
	}
	src, err := completeSource(src, r.env)
	if errors.Is(err, errNoMasters) {
		return src, &apiError{Status: statusUnavailable, Message: err.Error(), Hint: noMastersHint}
	}
	if err != nil {
		return src, &apiError{Status: statusUnavailable, Message: err.Error()}
	}
	return src, nil
}

// api returns the client of the cluster the command is running against, building it from
// the global flags on first use.
func (r *runner) api(c *ucli.Context) (*client, error) {
	if r.client != nil {
		return r.client, nil
	}
	src, err := r.source(c)
	if err != nil {
		return nil, err
	}
	cl, err := r.newClient(c, src)
	if err != nil {
		return nil, err
	}
	r.client = cl
	return cl, nil
}

// newClient builds a client of the masters src names.
func (r *runner) newClient(c *ucli.Context, src masterSource) (*client, error) {
	username := c.String(flagUsername)
	if username == "" {
		username = r.env("USER")
	}
	if username == "" {
		if u, err := user.Current(); err == nil {
			username = u.Username
		}
	}
	httpTimeout, err := r.timeoutSetting(c, flagHTTPTimeout, envHTTPTimeout)
	if err != nil {
		return nil, err
	}
	retryTimeout, err := r.timeoutSetting(c, flagRetryTimeout, envRetryTimeout)
	if err != nil {
		return nil, err
	}
	pageSize, err := parsePageSize(r.env(envPageSize))
	if err != nil {
		return nil, usagef("%s", err.Error())
	}
	verbosity := c.Count(flagVerbose)
	resolver := newResolver(src.Resolver)
	creds, err := r.credentials(c)
	if err != nil {
		return nil, err
	}
	tc, err := creds.tlsConfig(c.Bool(flagInsecure))
	if err != nil {
		return nil, err
	}
	return &client{
		authToken:    creds.token,
		src:          src,
		resolver:     resolver,
		user:         username,
		http:         newHTTPClient(httpTimeout, resolver, tc),
		retryTimeout: retryTimeout,
		retryDelay:   r.retryDelay,
		pageSize:     pageSize,
		log: func(format string, args ...any) {
			if verbosity > 0 {
				fmt.Fprintf(r.stderr, format+"\n", args...)
			}
		},
		warn: func(format string, args ...any) {
			fmt.Fprintf(r.stderr, format+"\n", args...)
		},
	}, nil
}

// positionals splits a command's arguments at the "--" the normalizer put after the
// flags: the positionals before the user's own "--" and what came after it.
func positionals(c *ucli.Context) (pos, rest []string, dashdash bool) {
	args := c.Args().Slice()
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:], true
		}
	}
	return args, nil, false
}

// prompt is where questions go: stdout, except with --json, which keeps stdout parseable.
func (r *runner) prompt() io.Writer {
	if r.json {
		return r.stderr
	}
	return r.stdout
}

// confirmOn asks "Do you want to continue? [y/N]" on w and reads the answer from stdin.
func (r *runner) confirmOn(w io.Writer) bool {
	fmt.Fprintln(w, "Do you want to continue? [y/N]")
	line, _ := r.stdin.ReadString('\n')
	// As the original: any answer starting with y or Y is a yes.
	line = strings.TrimSpace(line)
	return line != "" && (line[0] == 'y' || line[0] == 'Y')
}

// printVersion prints the client version and, when a master answers, its version. With
// quick set (--version) a master that does not answer at once is left out silently.
func (r *runner) printVersion(c *ucli.Context, quick bool) error {
	out := map[string]string{"client": model.Version}
	var masterErr error
	cl, err := r.api(c)
	if err == nil {
		if quick {
			cl.retryTimeout = 0
		}
		var v string
		v, masterErr = cl.version(c.Context)
		if masterErr == nil {
			out["master"] = v
		}
	} else {
		masterErr = err
	}
	if quick {
		masterErr = nil
	}
	if r.json {
		if masterErr != nil {
			var ae *apiError
			if errors.As(masterErr, &ae) {
				out["status"], out["message"] = ae.Status, ae.Message
			} else {
				out["status"], out["message"] = "ERROR", masterErr.Error()
			}
		}
		_ = writeJSON(r.stdout, out)
	} else {
		fmt.Fprintf(r.stdout, "Client Version: %s\n", model.Version)
		if v, ok := out["master"]; ok {
			fmt.Fprintf(r.stdout, "Master Version: %s\n", v)
		} else if masterErr != nil {
			fmt.Fprintf(r.stdout, "Master Version: Unable to connect to master: %v\n", masterErr)
		}
	}
	if masterErr != nil {
		return errFailed
	}
	return nil
}
