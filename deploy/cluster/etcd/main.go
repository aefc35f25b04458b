// Command helios-etcd runs one member of the demo cluster's etcd (`make cluster`): the etcd
// server of the module version Helios builds against, through store's embedded member, so
// no etcd image has to be pulled. It is demo tooling, not a supported etcd distribution.
// With https URLs it serves clients and peers over TLS (--cert, --key, --cacert). With
// --jwt-private-key and --jwt-public-key (the same pair on every member) its
// authentication tokens are JWTs any member accepts, so clients fail over without logging
// in again.
package main

import (
	"context"
	"errors"
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
	cfg, err := parseConfig(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
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
