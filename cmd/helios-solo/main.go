// Command helios-solo runs a whole Helios on one machine: an embedded etcd (on disk), a
// master, and an agent on the local Docker engine.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/helios-go/helios/cmd/internal/daemon"
	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	app := &ucli.App{
		Name:    "helios-solo",
		Usage:   "run Helios on this machine: embedded etcd, a master and an agent on the local Docker",
		Version: model.Version,
		Flags: append(append(daemon.CommonFlags(), daemon.MasterFlags()...),
			daemon.EtcdFlags(filepath.Join(home, ".helios", "solo", "etcd"))...),
		Action: func(c *ucli.Context) error { return run(ctx, c) },
	}
	if err := app.RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "helios-solo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c *ucli.Context) error {
	log, err := daemon.NewLogger(c.String("log-level"), c.Bool("log-console"))
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // nothing to do about a failed flush at exit
	reg := daemon.NewRegistry()
	endpoints, stopEtcd, err := daemon.EtcdEndpoints(ctx, c, c.App.Writer, log)
	if err != nil {
		return err
	}
	defer stopEtcd()
	st, closeStore, err := daemon.ConnectStore(ctx, c, endpoints, log, reg)
	if err != nil {
		return err
	}
	defer closeStore()
	m, err := daemon.StartMaster(c, st, log, reg)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "try: helios -z %s hosts\n", daemon.URL(m.APIAddr()))
	return daemon.RunUntilDone(ctx, m.Run)
}
