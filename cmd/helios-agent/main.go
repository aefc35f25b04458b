// Command helios-agent runs on every Docker host: it registers the host in etcd and keeps
// the host's containers matching the deployments made to it.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/helios-go/helios/cmd/internal/daemon"
	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
	"go.uber.org/zap"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	flags := append(append(append(daemon.CommonFlags(), daemon.AgentFlags(daemon.DefaultAgentName(), "metrics")...), daemon.PolicyFlags()...), daemon.DiscoveryFlags()...)
	flags = append(flags, daemon.PprofFlag("--metrics"), &ucli.StringSliceFlag{Name: "etcd", Value: ucli.NewStringSlice("http://127.0.0.1:2379"), Usage: "etcd client endpoints (repeatable or comma-separated)"})
	app := &ucli.App{
		Name:    "helios-agent",
		Usage:   "run the deployments made to this host as Docker containers",
		Version: model.Version,
		Flags:   flags,
		// Env values and labels may hold commas; only --etcd is split (below).
		DisableSliceFlagSeparator: true,
		Action:                    func(c *ucli.Context) error { return run(ctx, c) },
	}
	if err := app.RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "helios-agent:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c *ucli.Context) error {
	s, err := daemon.ParseAgentFlags(c, "metrics")
	if err != nil {
		return err
	}
	b, closeAll, err := daemon.Boot(ctx, c, etcdFlag)
	if err != nil {
		return err
	}
	defer closeAll()
	printf := func(format string, args ...any) { fmt.Fprintf(c.App.Writer, format, args...) }
	return daemon.RunUntilDone(ctx, func(ctx context.Context) error {
		return daemon.RunAgent(ctx, s, b.Store, b.Log, b.Registry, printf, nil)
	})
}

// etcdFlag reads --etcd: an agent always talks to an existing etcd, never an embedded one.
func etcdFlag(_ context.Context, c *ucli.Context, _ *zap.Logger) ([]string, func(), error) {
	var eps []string
	for _, e := range c.StringSlice("etcd") {
		for _, p := range strings.Split(e, ",") {
			if p = strings.TrimSpace(p); p != "" {
				eps = append(eps, p)
			}
		}
	}
	if len(eps) == 0 {
		return nil, nil, errors.New("--etcd is required")
	}
	return eps, func() {}, nil
}
