// Command prog is the program of the test image (helios-test:latest), a static binary in
// an image FROM scratch, so it needs no shell. Modes:
//
//	prog [serve]   listen on $LISTEN (comma-separated tcp ports, optional) and wait; on
//	               SIGTERM write "SIGTERM" to $MARKER (if set) and exit 0
//	prog env       print the environment
//	prog exit N    exit with code N at once
//	prog true      exit 0 (for exec checks)
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	mode := "serve"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "env":
		for _, e := range os.Environ() {
			fmt.Println(e)
		}
	case "exit":
		code := 1
		if len(os.Args) > 2 {
			code, _ = strconv.Atoi(os.Args[2])
		}
		os.Exit(code)
	case "true":
	case "serve":
		serve()
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", mode)
		os.Exit(2)
	}
}

func serve() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	for _, p := range strings.Split(os.Getenv("LISTEN"), ",") {
		if p == "" {
			continue
		}
		l, err := net.Listen("tcp", ":"+p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				fmt.Fprintln(c, "hello from", os.Getenv("HOSTNAME"))
				c.Close()
			}
		}()
	}
	fmt.Println("serving")
	s := <-sig
	if m := os.Getenv("MARKER"); m != "" {
		_ = os.WriteFile(m, []byte(s.String()+"\n"), 0o644)
	}
	fmt.Println("got", s)
}
