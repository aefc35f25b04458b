// Command helios-solo runs a whole Helios on one machine: an embedded etcd (on disk), a
// master, and an agent on the local Docker engine.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/helios-go/helios/cmd/internal/daemon"
	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

// soloLabel marks the solo agent's host, so selectors can find it.
const soloLabel = "solo=yes"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	soloDir := daemon.HomeDir("solo")
	app := &ucli.App{
		Name:    "helios-solo",
		Usage:   "run Helios on this machine: embedded etcd, a master and an agent on the local Docker",
		Version: model.Version,
		Flags:   flags(soloDir),
		// Env values and labels may hold commas.
		DisableSliceFlagSeparator: true,
		Action:                    func(c *ucli.Context) error { return run(ctx, c, soloDir) },
	}
	if err := app.RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "helios-solo:", err)
		os.Exit(1)
	}
}

// flags are the master's and the agent's, sharing --name (the master's name and the host's).
// The agent's metrics are served with the master's on the API port unless --agent-metrics
// asks for an address of their own.
func flags(soloDir string) []ucli.Flag {
	fs := append(append(append(daemon.CommonFlags(), daemon.MasterFlags()...), daemon.PolicyFlags()...), daemon.EtcdFlags(filepath.Join(soloDir, "etcd"))...)
	fs = append(fs, daemon.DiscoveryFlags()...) // one set for the master and the agent
	for _, f := range daemon.AgentFlags(daemon.DefaultAgentName(), "agent-metrics") {
		switch f.Names()[0] {
		case "name":
			continue
		case "agent-metrics":
			f = &ucli.StringFlag{Name: "agent-metrics", Usage: "separate address for the agent's /metrics (default: with the master's)"}
		case "state-dir":
			f = &ucli.StringFlag{Name: "state-dir", Usage: "where the agent keeps its host id, cluster id, container record and last deployments (default " +
				filepath.Join(soloDir, "agent") + ", or <data-dir>/agent when --data-dir is given)"}
		case "labels":
			f = &ucli.StringSliceFlag{Name: "labels", Value: ucli.NewStringSlice(soloLabel), Usage: "host label k=v (repeatable)"}
		}
		fs = append(fs, f)
	}
	return fs
}

func run(ctx context.Context, c *ucli.Context, soloDir string) error {
	agentSettings, err := daemon.ParseAgentFlags(c, "agent-metrics")
	if err != nil {
		return err
	}
	agentSettings.StateDir = stateDir(c, soloDir)
	b, closeAll, err := daemon.Boot(ctx, c, daemon.EtcdEndpoints)
	if err != nil {
		return err
	}
	defer closeAll()
	m, err := daemon.StartMaster(c, b.Store, b.Log, b.Registry)
	if err != nil {
		return err
	}
	printf := func(format string, args ...any) { fmt.Fprintf(c.App.Writer, format, args...) }

	// Master and agent live and die together: if either fails, solo stops. They stop in
	// order, agent first, then the master, and only then (closeAll) the store and etcd, so
	// that none of them loses what it talks to while it is still stopping.
	masterCtx, stopMaster := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMaster()
	agentCtx, stopAgent := context.WithCancel(masterCtx)
	defer stopAgent()
	masterDone, agentDone := make(chan error, 1), make(chan error, 1)
	go func() { masterDone <- named("master", m.Run(masterCtx)) }()
	go func() {
		// The banner comes once everything is up, so it is never followed by a start-up error.
		ready := func() {
			where := "on " + agentSettings.DockerHost
			if agentSettings.Fake {
				where = "in memory (--fake-runtime)"
			}
			printf("helios agent %q: running containers %s\n", agentSettings.Name, where)
			printf("try: helios -z %s hosts\n", daemon.URL(m.Scheme(), m.APIAddr()))
		}
		agentDone <- named("agent", daemon.RunAgent(agentCtx, agentSettings, b.Store, b.Log, b.Registry, printf, ready))
	}()

	select {
	case <-ctx.Done():
	case err = <-agentDone:
		agentDone = nil
	case err = <-masterDone:
		masterDone = nil
	}
	stopAgent()
	if agentDone != nil {
		if aerr := <-agentDone; err == nil {
			err = aerr
		}
	}
	stopMaster()
	if masterDone != nil {
		if merr := <-masterDone; err == nil {
			err = merr
		}
	}
	if ctx.Err() != nil {
		return nil // stopped by a signal: what failed while stopping is not the news
	}
	return err
}

// stateDir is the agent's state dir: --state-dir, else next to the solo's etcd data. A
// second solo given its own --data-dir thus gets its own state dir (the lock on a shared one
// would stop it). Without --data-dir it stays where earlier versions kept it.
func stateDir(c *ucli.Context, soloDir string) string {
	switch {
	case c.IsSet("state-dir"):
		return c.String("state-dir")
	case c.IsSet("data-dir"):
		return filepath.Join(c.String("data-dir"), "agent")
	}
	return filepath.Join(soloDir, "agent")
}

func named(what string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}
