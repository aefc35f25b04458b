// Command build-busybox imports a local busybox:latest image from Debian's busybox-static
// package, so the manual's examples (/bin/sh -c '…') run without pulling anything.
//
//	build-busybox [--force] [TAG]
//
// An image under TAG that Helios did not build (a busybox pulled from a registry) is left
// alone unless --force.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/helios-go/helios/test/testimage"
)

func main() {
	force := flag.Bool("force", false, "replace an image under the tag that Helios did not build")
	flag.Parse()
	tag := testimage.BusyboxTag
	if flag.NArg() > 0 {
		tag = flag.Arg(0)
	}
	err := testimage.BuildBusybox(context.Background(), tag, *force)
	if errors.Is(err, testimage.ErrForeignImage) {
		fmt.Fprintf(os.Stderr, "build-busybox: %v\nIt already works for the examples if it is a busybox; to replace it anyway: make busybox-image FORCE=1\n", err)
		os.Exit(1)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "build-busybox:", err)
		os.Exit(1)
	}
	fmt.Println("built", tag)
}
