package cli

import ucli "github.com/urfave/cli/v2"

// groupCommands are the deployment group commands: groups of hosts chosen by labels, onto
// which rolling-update rolls one job.
func (r *runner) groupCommands() []*ucli.Command {
	fullFlag := &ucli.BoolFlag{Name: "full", Aliases: []string{"f"}, Usage: "print full job ids and host names"}
	return []*ucli.Command{
		{
			Name:      "create-deployment-group",
			Usage:     "create a deployment group: the hosts whose labels match selectors",
			ArgsUsage: "<name> <selector>...",
			UsageText: "helios create-deployment-group [options] <name> <selector>...\n\n" +
				"   helios create-deployment-group foo-group foo=bar baz=qux\n" +
				"   helios create-deployment-group web role=web \"dc in (ams, lon)\" env!=test",
			Description: "Creates the group, which then holds every host whose labels match all selectors " +
				"(label=value, label!=value, \"label in (a, b)\", \"label notin (a, b)\"; a host lacking the label matches none). " +
				"Creating it again with the same selectors is NOT_MODIFIED (exit 0); with other selectors CONFLICT (exit 1).",
			Flags: []ucli.Flag{
				&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the master's answer"},
			},
			Action: r.createGroup,
		},
		{
			Name:        "list-deployment-groups",
			Usage:       "list deployment groups",
			UsageText:   "helios list-deployment-groups\n\n   helios list-deployment-groups --json",
			Description: "Prints the names of the deployment groups, sorted.",
			Action:      r.listGroups,
		},
		{
			Name:        "inspect-deployment-group",
			Usage:       "show a deployment group's configuration",
			ArgsUsage:   "<name>",
			UsageText:   "helios inspect-deployment-group <name>\n\n   helios inspect-deployment-group foo-group",
			Description: "Prints the group's selectors, its job and the rollout options of its last rolling update.",
			Action:      r.inspectGroup,
		},
		{
			Name:      "remove-deployment-group",
			Usage:     "remove a deployment group (its jobs stay deployed)",
			ArgsUsage: "<name>",
			UsageText: "helios remove-deployment-group <name>\n\n   helios remove-deployment-group foo-group",
			Description: "Removes the group. It does NOT undeploy its job from its hosts: undeploy it first " +
				"(helios undeploy -a) if the containers should go too.",
			Action: r.removeGroup,
		},
		{
			Name:      "deployment-group-status",
			Usage:     "show a deployment group's rollout and where its job runs",
			ArgsUsage: "<name>",
			UsageText: "helios deployment-group-status [options] <name>\n\n   helios deployment-group-status foo-group",
			Description: "Prints the group's job, its status (IDLE, ROLLING_OUT, PAUSED, DONE, FAILED) and error, " +
				"then one row per member host: whether it runs the group's job (UP-TO-DATE X), the job and its state.",
			Flags:  []ucli.Flag{fullFlag},
			Action: r.groupStatus,
		},
		{
			Name:      "watch-deployment-group",
			Usage:     "follow a deployment group's status as it changes",
			ArgsUsage: "<name>",
			UsageText: "helios watch-deployment-group [options] <name>\n\n   helios watch-deployment-group foo-group\n" +
				"   helios watch-deployment-group --json foo-group",
			Description: "Prints the group's status (as deployment-group-status) now and again each time the master pushes a change, " +
				"under a line with the UTC time (--json: one status per line). Runs until interrupted (Ctrl-C, exit 0) " +
				"or until the group is removed (\"Unknown deployment group: <name>\", exit 1).",
			Flags: []ucli.Flag{
				fullFlag,
				&ucli.IntFlag{Name: "interval", Value: 1, Usage: "ignored: kept for the original's scripts; changes are pushed as they happen, not polled every `SECONDS`"},
			},
			Action: r.watchGroup,
		},
		{
			Name:        "stop-deployment-group",
			Usage:       "stop a deployment group's rolling update",
			ArgsUsage:   "<name>",
			UsageText:   "helios stop-deployment-group <name>\n\n   helios stop-deployment-group foo-group",
			Description: "Stops the rollout where it is: the group becomes FAILED \"Stopped by user\" (rolled back if it asked for --auto-rollback). A new rolling-update starts over.",
			Action:      r.stopGroup,
		},
		{
			Name:        "promote-deployment-group",
			Usage:       "let a canary rollout that is PAUSED go on",
			ArgsUsage:   "<name>",
			UsageText:   "helios promote-deployment-group <name>\n\n   helios promote-deployment-group foo-group",
			Description: "Resumes a rolling update started with --canary, paused once the canary hosts run the new job. Fails (NOT_PAUSED) when the group is not paused.",
			Action:      r.promoteGroup,
		},
		{
			Name:      "rolling-update",
			Usage:     "roll a job onto a deployment group's hosts",
			ArgsUsage: "<job> <group>",
			UsageText: "helios rolling-update [options] <job> <group>\n\n" +
				"   helios rolling-update foo:0.1.0 foo-group\n" +
				"   helios rolling-update -p 2 -t 120 web:2 web\n" +
				"   helios rolling-update --canary 1 --auto-rollback web:3 web",
			Description: "Rolls the job onto the group's hosts in batches, replacing the job the group deployed before, and waits " +
				"for the rollout (unless --async), printing each host as it runs the job. Exit 0 when done, 1 when it failed " +
				"or the wait timed out (the rollout goes on). With --canary N it exits 0 once paused after N hosts: then run " +
				"'helios promote-deployment-group <group>'. Options not given come from the job's rolloutOptions, then the defaults.",
			Flags: []ucli.Flag{
				&ucli.StringFlag{Name: "timeout", Aliases: []string{"t"}, Usage: "`SECONDS` each step may take (default: the job's, else 300)"},
				&ucli.StringFlag{Name: "par", Aliases: []string{"p", "parallelism"}, Usage: "update `N` hosts at a time (default: the job's, else 1)"},
				&ucli.BoolFlag{Name: "async", Usage: "do not wait for the rollout"},
				&ucli.StringFlag{Name: "rollout-timeout", Aliases: []string{"T"}, Value: "60", Usage: "`MINUTES` to wait for the rollout; it goes on afterwards"},
				&ucli.BoolFlag{Name: "migrate", Usage: "also take over deployments of the same job not made by this group (use once when moving to groups)"},
				&ucli.BoolFlag{Name: "overlap", Usage: "deploy the new job on a host before undeploying the old one (fails with static ports)"},
				&ucli.StringFlag{Name: "token", Usage: "the jobs' access `TOKEN`"},
				&ucli.BoolFlag{Name: "ignore-failures", Usage: "go on when a host fails"},
				&ucli.BoolFlag{Name: "auto-rollback", Usage: "if the rollout fails, put the hosts it changed back on what they ran"},
				&ucli.StringFlag{Name: "canary", Usage: "pause once `N` hosts run the job, until promote-deployment-group"},
			},
			Action: r.rollingUpdate,
		},
	}
}
