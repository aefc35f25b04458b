// Command helios-etcd runs one member of the demo cluster's etcd (`make cluster`): the etcd
// server of the module version Helios builds against, through store's embedded member, so
// no etcd image has to be pulled. It is demo tooling, not a supported etcd distribution.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/helios-go/helios/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "helios-etcd:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg store.EmbedConfig
	flag.StringVar(&cfg.Name, "name", "", "member name")
	flag.StringVar(&cfg.DataDir, "data-dir", "/var/lib/helios/etcd", "data directory")
	flag.StringVar(&cfg.ClientURL, "client-url", "", "client URL (an IP: it is also listened on)")
	flag.StringVar(&cfg.PeerURL, "peer-url", "", "peer URL (an IP: it is also listened on)")
	flag.StringVar(&cfg.InitialCluster, "initial-cluster", "", "every member as name=http://IP:port,..., this one included")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if cfg.Name == "" {
		return fmt.Errorf("--name is required")
	}
	if _, err := parseInitialCluster(cfg.InitialCluster, cfg.Name); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	m, err := store.StartEmbedded(ctx, cfg)
	if err != nil {
		return fmt.Errorf("start member %s: %w", cfg.Name, err)
	}
	defer m.Close()
	fmt.Println("helios-etcd: member", cfg.Name, "serving", m.Endpoints())
	select {
	case <-ctx.Done():
		return nil
	case err := <-m.Err():
		return fmt.Errorf("member %s: %w", cfg.Name, err)
	}
}
