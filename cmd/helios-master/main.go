// Command helios-master serves Helios's REST API on top of etcd.
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
	app := &ucli.App{
		Name:     "helios-master",
		Usage:    "serve the Helios REST API, with all state in etcd",
		Version:  model.Version,
		Flags:    append(append(append(append(daemon.CommonFlags(), daemon.MasterFlags()...), daemon.PolicyFlags()...), daemon.DiscoveryFlags()...), daemon.EtcdFlags(filepath.Join(daemon.HomeDir("master"), "etcd"))...),
		Action:   func(c *ucli.Context) error { return run(ctx, c) },
		Commands: []*ucli.Command{daemon.EtcdAuthCommand()},
	}
	if err := app.RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "helios-master:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c *ucli.Context) error {
	b, closeAll, err := daemon.Boot(ctx, c, daemon.EtcdEndpoints)
	if err != nil {
		return err
	}
	defer closeAll()
	m, err := daemon.StartMaster(c, b.Store, b.Log, b.Registry)
	if err != nil {
		return err
	}
	return daemon.RunUntilDone(ctx, m.Run)
}
