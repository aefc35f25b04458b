package cli

import (
	"time"

	ucli "github.com/urfave/cli/v2"
)

// tokenFlag is the job token that deploy, undeploy, start, stop and remove must present.
func tokenFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "token", Usage: "the job's access `TOKEN`, if it was created with one"}
}

// commands builds the command tree. Each command's UsageText carries an example, which
// `helios help <command>` shows.
func (r *runner) commands() []*ucli.Command {
	cmds := []*ucli.Command{
		{
			Name:      "create",
			Usage:     "create a job",
			ArgsUsage: "<name:version> <image> [-- command...]",
			UsageText: "helios create [options] <name:version> <image> [-- command...]\n\n" +
				"   helios create foo:v1 nginx\n" +
				"   helios create testjob:1 ubuntu:12.04 --env FOO=bar -- /bin/sh -c 'while true; do echo $FOO; date; sleep 60; done'\n" +
				"   helios create --http-check http:/healthcheck -p http=8080 web:2 myregistry/web:2\n" +
				"   helios create -f job.json web:3 myregistry/web:3   (flags win over the file)",
			Description: "Creates a job from flags, a job file (-f) or an existing job (-t), and prints its id on the last line.",
			Flags: []ucli.Flag{
				&ucli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "read the job from this JSON `FILE` (- for stdin); flags override its fields"},
				&ucli.StringFlag{Name: "template", Aliases: []string{"t"}, Usage: "start from this existing `JOB`; flags override its fields"},
				&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the job id"},
				&ucli.StringFlag{Name: "hostname", Usage: "container host `NAME`"},
				&ucli.StringFlag{Name: "token", Usage: "access `TOKEN` that deploy, undeploy, start, stop and remove must then give"},
				&ucli.StringSliceFlag{Name: "env", Usage: "environment variable `KEY=VALUE` (repeatable)"},
				&ucli.StringSliceFlag{Name: "metadata", Aliases: []string{"m"}, Usage: "metadata `KEY=VALUE` (repeatable); GIT_COMMIT comes from the environment"},
				&ucli.StringSliceFlag{Name: "port", Aliases: []string{"p"}, Usage: "port `MAPPING` name=[ip:]internal[:external][/tcp|udp] (repeatable)"},
				&ucli.StringSliceFlag{Name: "register", Aliases: []string{"r"}, Usage: "service `REGISTRATION` service[/proto][=portName] (repeatable)"},
				&ucli.StringFlag{Name: "registration-domain", Usage: "service registration `DOMAIN`"},
				&ucli.IntFlag{Name: "grace-period", Usage: "`SECONDS` between unregistering and stopping (not with static ports)"},
				&ucli.StringSliceFlag{Name: "volume", Usage: "`VOLUME` [host-path|name:]container-path[:ro|rw] (repeatable)"},
				&ucli.StringFlag{Name: "expires", Aliases: []string{"e"}, Usage: "undeploy and remove the job at this ISO-8601 `TIME`, e.g. 2030-06-01T12:00:00Z"},
				&ucli.StringFlag{Name: "exec-check", Usage: "health check: run this `COMMAND` in the container"},
				&ucli.StringFlag{Name: "http-check", Usage: "health check: HTTP GET `PORT:PATH`, e.g. http:/healthcheck"},
				&ucli.StringFlag{Name: "tcp-check", Usage: "health check: connect to this `PORT` name"},
				&ucli.StringSliceFlag{Name: "security-opt", Usage: "docker security `OPTION` (repeatable)"},
				&ucli.StringFlag{Name: "network-mode", Usage: "`MODE`: bridge, host or container:<name|id>"},
				&ucli.StringSliceFlag{Name: "add-capability", Usage: "Linux `CAPABILITY` to add (repeatable)"},
				&ucli.StringSliceFlag{Name: "drop-capability", Usage: "Linux `CAPABILITY` to drop (repeatable)"},
				&ucli.StringSliceFlag{Name: "labels", Usage: "container label `KEY=VALUE` (repeatable)"},
				&ucli.StringSliceFlag{Name: "rollout-options", Usage: "rolling-update option `KEY=VALUE`: timeout, parallelism, migrate, overlap, token, ignoreFailures (repeatable)"},
				&ucli.StringFlag{Name: "runtime", Usage: "container `RUNTIME`, e.g. nvidia"},
			},
			Action: r.create,
		},
		{
			Name:        "inspect",
			Usage:       "show a job's configuration",
			ArgsUsage:   "<job>",
			UsageText:   "helios inspect <job>\n\n   helios inspect testjob:1\n   helios inspect testjob:1 --json > job.json",
			Description: "With --json prints the full job, usable as a file for create -f.",
			Action:      r.inspect,
		},
		{
			Name:        "jobs",
			Usage:       "list jobs",
			ArgsUsage:   "[pattern]",
			UsageText:   "helios jobs [options] [pattern]\n\n   helios jobs\n   helios jobs testjob -y",
			Description: "Lists the jobs whose id starts with (or whose name contains) the pattern.",
			Flags: []ucli.Flag{
				&ucli.BoolFlag{Name: "full", Aliases: []string{"f"}, Usage: "print full job ids"},
				&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only job ids"},
				&ucli.BoolFlag{Name: "deployed", Aliases: []string{"y"}, Usage: "only jobs deployed on at least one host"},
			},
			Action: r.jobs,
		},
		{
			Name:        "remove",
			Usage:       "remove a job",
			ArgsUsage:   "<job>",
			UsageText:   "helios remove [options] <job>\n\n   helios remove testjob:1 --yes",
			Description: "Removes a job that is deployed nowhere, with its history. Asks first unless --yes.",
			Flags: []ucli.Flag{
				tokenFlag(),
				&ucli.BoolFlag{Name: "yes", Aliases: []string{"force"}, Usage: "do not ask for confirmation (--force is the original's deprecated spelling)"},
			},
			Action: r.remove,
		},
		{
			Name:      "deploy",
			Usage:     "deploy a job to hosts",
			ArgsUsage: "<job> <host>...",
			UsageText: "helios deploy [options] <job> <host>...\n\n   helios deploy testjob:1 192.168.33.10\n   helios deploy --no-start testjob:1 host1 host2\n   helios deploy --watch --watch-timeout 2m testjob:1 host1 host2",
			Description: "Deploys the job on each host (exact name or unique prefix). Hosts already running it answer JOB_ALREADY_DEPLOYED; the others still get it. " +
				"With --watch, then follows the hosts it was deployed on until all are RUNNING (exit 0), one fails or cannot get the image, or the timeout passes (exit 1).",
			Flags: []ucli.Flag{
				tokenFlag(),
				&ucli.BoolFlag{Name: "no-start", Usage: "deploy with goal STOP: do not start the container"},
				&ucli.BoolFlag{Name: "watch", Usage: "wait until the job is RUNNING on every host, printing its state changes; fails on FAILED, IMAGE_MISSING, IMAGE_PULL_FAILED (not with --no-start)"},
				&ucli.DurationFlag{Name: "watch-timeout", Value: 5 * time.Minute, Usage: "with --watch, give up after this `DURATION`, e.g. 90s or 10m"},
			},
			Action: r.deploy,
		},
		{
			Name:        "undeploy",
			Usage:       "undeploy a job from hosts",
			ArgsUsage:   "<job> [host...]",
			UsageText:   "helios undeploy [options] <job> [host...]\n\n   helios undeploy testjob:1 192.168.33.10\n   helios undeploy -a --yes testjob:1",
			Description: "Undeploys the job from the given hosts, or with -a from every host it is deployed on (asking first unless --yes).",
			Flags: []ucli.Flag{
				tokenFlag(),
				&ucli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "undeploy from every host the job is deployed on"},
				&ucli.BoolFlag{Name: "yes", Aliases: []string{"force"}, Usage: "do not ask for confirmation (--force is the original's deprecated spelling)"},
			},
			Action: r.undeploy,
		},
		{
			Name:        "start",
			Usage:       "start a deployed job",
			ArgsUsage:   "<job> <host>...",
			UsageText:   "helios start [options] <job> <host>...\n\n   helios start testjob:1 192.168.33.10",
			Description: "Sets the deployment's goal to START.",
			Flags:       []ucli.Flag{tokenFlag()},
			Action:      r.setGoalAction("START"),
		},
		{
			Name:        "stop",
			Usage:       "stop a deployed job",
			ArgsUsage:   "<job> <host>...",
			UsageText:   "helios stop [options] <job> <host>...\n\n   helios stop testjob:1 192.168.33.10",
			Description: "Sets the deployment's goal to STOP: the container stops but the job stays deployed.",
			Flags:       []ucli.Flag{tokenFlag()},
			Action:      r.setGoalAction("STOP"),
		},
		{
			Name:        "status",
			Usage:       "show where jobs run and in which state",
			UsageText:   "helios status [options]\n\n   helios status\n   helios status --job testjob:1 --host 192.168",
			Description: "Lists each job's deployments and task states.",
			Flags: []ucli.Flag{
				&ucli.StringFlag{Name: "job", Aliases: []string{"j"}, Usage: "only jobs matching this `JOB` reference or pattern"},
				&ucli.StringFlag{Name: "host", Usage: "only hosts whose name contains `PATTERN`"},
				&ucli.BoolFlag{Name: "full", Aliases: []string{"f"}, Usage: "print full job ids, host names and container ids"},
			},
			Action: r.status,
		},
		{
			Name:        "history",
			Usage:       "show a job's task history",
			ArgsUsage:   "<job>",
			UsageText:   "helios history [options] <job>\n\n   helios history testjob:1",
			Description: "Lists every state change of the job's tasks, oldest first.",
			Flags: []ucli.Flag{
				&ucli.BoolFlag{Name: "full", Aliases: []string{"f"}, Usage: "print full container ids"},
			},
			Action: r.history,
		},
		{
			Name:      "watch",
			Usage:     "follow a job's state changes as they happen",
			ArgsUsage: "<job> [host...]",
			UsageText: "helios watch [options] <job> [host...]\n\n   helios watch testjob:1\n   helios watch testjob:1 web1 web2 --exact\n   helios watch --json testjob:1",
			Description: "Prints the newest state of the job on each host, then every state change as the master pushes it, " +
				"one line each: TIMESTAMP HOST STATE THROTTLED CONTAINERID (--json: one event per line). Runs until interrupted (Ctrl-C, exit 0).",
			Flags: []ucli.Flag{
				&ucli.BoolFlag{Name: "exact", Usage: "host names are exact, not prefixes of registered hosts"},
				&ucli.IntFlag{Name: "interval", Value: 1, Usage: "ignored: kept for the original's scripts; changes are pushed as they happen, not polled every `SECONDS`"},
				&ucli.BoolFlag{Name: "full", Aliases: []string{"f"}, Usage: "print full container ids"},
			},
			Action: r.watch,
		},
		{
			Name:      "hosts",
			Usage:     "list hosts",
			ArgsUsage: "[pattern]",
			UsageText: "helios hosts [options] [pattern]\n\n   helios hosts\n" +
				"   helios hosts -s key1=value1 -s key2!=value2 -s \"key3 in (value3a, value3b)\"\n   helios hosts --status DOWN -q",
			Description: "Lists the hosts whose name contains the pattern and whose labels match every selector (=, !=, in, notin).",
			Flags: []ucli.Flag{
				&ucli.StringSliceFlag{Name: "selector", Aliases: []string{"s"}, Usage: "label selector `EXPR`: key=value, key!=value, \"key in (a, b)\", \"key notin (a, b)\" (repeatable; all must hold)"},
				&ucli.StringFlag{Name: "status", Usage: "only hosts that are `UP` or DOWN"},
				&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only host names"},
				&ucli.BoolFlag{Name: "full", Aliases: []string{"f"}, Usage: "print full host names"},
			},
			Action: r.hosts,
		},
		{
			Name:        "register",
			Usage:       "register a host",
			ArgsUsage:   "<host> <id>",
			UsageText:   "helios register <host> <id>\n\n   helios register 192.168.33.10 4f7125bf-agent-id",
			Description: "Registers a host name with the unique id its agent will present.",
			Action:      r.register,
		},
		{
			Name:        "deregister",
			Aliases:     []string{"unregister"},
			Usage:       "deregister a host",
			ArgsUsage:   "<host>",
			UsageText:   "helios deregister [options] <host>\n\n   helios deregister 192.168.33.10 --yes\n   helios deregister web1 --yes --allow-up   (its agent still runs)",
			Description: "Removes a host with its deployments, task statuses and history. Asks first unless --yes. A host that is UP is refused (its agent would then remove every container) unless --allow-up.",
			Flags: []ucli.Flag{
				&ucli.BoolFlag{Name: "yes", Aliases: []string{"force"}, Usage: "do not ask for confirmation (--force is the original's deprecated spelling)"},
				&ucli.BoolFlag{Name: "allow-up", Usage: "deregister the host even though its agent is UP: its containers are then removed"},
			},
			Action: r.deregister,
		},
		{
			Name:        "accept-restore",
			Usage:       "let hosts' agents converge after etcd was restored from a snapshot",
			ArgsUsage:   "<host>... | --all",
			UsageText:   "helios accept-restore <host>... | --all\n\n   helios accept-restore web1 web2\n   helios accept-restore --all",
			Description: "After etcd is restored from an older snapshot, each agent keeps every container running and removes, stops or replaces none (helios_agent_restore_suspected is 1). This accepts etcd's desired state for the hosts: their agents then converge to it, removing the containers of jobs deployed after the snapshot. --all accepts it for every registered host (a host that suspected nothing is unaffected). See docs/operations.md.",
			Flags: []ucli.Flag{
				&ucli.BoolFlag{Name: "all", Usage: "every registered host, instead of the hosts named"},
			},
			Action: r.acceptRestore,
		},
		{
			Name:        "masters",
			Usage:       "list the running masters",
			UsageText:   "helios masters\n\n   helios -d example.net masters",
			Description: "Lists the masters of the cluster.",
			Action:      r.masters,
		},
		{
			Name:        "whoami",
			Usage:       "print the user and role the master takes you for",
			UsageText:   "helios whoami\n\n   helios --auth-token \"$(cat admin.token)\" whoami\n   helios whoami --json",
			Description: "Asks the master (GET /auth/whoami) who the credentials given (--auth-token, or a client certificate) authenticate: \"ada (admin)\". A refused token fails with the master's 401 message. Without authentication on the master, says so: every caller may do everything.",
			Action:      r.whoami,
		},
		{
			Name:        "version",
			Usage:       "print the client and master versions",
			UsageText:   "helios version\n\n   helios version --json",
			Description: "Prints \"Client Version\" and, from the master, \"Master Version\"; fails when the master cannot be reached.",
			Action:      func(c *ucli.Context) error { return r.printVersion(c, false) },
		},
	}
	cmds = append(cmds, r.groupCommands()...)
	cmds = append(cmds, r.eventsCommand())
	for _, c := range cmds {
		c.Action = r.eachTarget(c.Action)
	}
	// Local commands talk to no master, so they run once whatever -z says.
	cmds = append(cmds, r.completionCommand())
	for _, c := range cmds {
		c.OnUsageError = func(_ *ucli.Context, err error, _ bool) error {
			return &usageError{msg: err.Error()}
		}
	}
	return cmds
}
