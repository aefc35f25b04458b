// Command build-busybox imports a local busybox:latest image from Debian's busybox-static
// package, so the manual's examples (/bin/sh -c '…') run without pulling anything.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/helios-go/helios/test/testimage"
)

func main() {
	tag := testimage.BusyboxTag
	if len(os.Args) > 1 {
		tag = os.Args[1]
	}
	if err := testimage.BuildBusybox(context.Background(), tag); err != nil {
		fmt.Fprintln(os.Stderr, "build-busybox:", err)
		os.Exit(1)
	}
	fmt.Println("built", tag)
}
