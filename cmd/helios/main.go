// Command helios is the Helios command line client.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/helios-go/helios/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
