// Command prog is the program of the test image (helios-test:latest), a static binary in
// an image FROM scratch, so it needs no shell. Modes:
//
//	prog [serve]   listen on $LISTEN (comma-separated tcp ports, optional) and wait; on
//	               SIGTERM write "SIGTERM" to $MARKER (if set) and exit 0; $READY (a path):
//	               written once the SIGTERM handler is in place. $HTTP (a port):
//	               serve HTTP there, /ok answering 200, /direct 200 only to a request
//	               addressed to that port (not to a published host port), anything else
//	               500. $DIE_AFTER (a
//	               duration): exit 3 after it. $CRASH_FILE with $CRASHES=N: count starts in
//	               the file and exit 1 at once for the first N.
//	prog env       print the environment
//	prog exit N    exit with code N at once
//	prog true      exit 0 (for exec checks)
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
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
	if f := os.Getenv("CRASH_FILE"); f != "" {
		b, _ := os.ReadFile(f)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		n++
		_ = os.WriteFile(f, []byte(strconv.Itoa(n)), 0o644)
		if max, _ := strconv.Atoi(os.Getenv("CRASHES")); n <= max {
			fmt.Println("crash", n)
			os.Exit(1)
		}
	}
	if p := os.Getenv("HTTP"); p != "" {
		go func() {
			err := http.ListenAndServe(":"+p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/ok" {
					fmt.Fprintln(w, "ok")
					return
				}
				// The Host header tells where the client sent the request: a health check
				// that reaches the container itself names $HTTP, one through Docker's proxy
				// the published host port.
				if _, port, _ := net.SplitHostPort(r.Host); r.URL.Path == "/direct" && port == p {
					fmt.Fprintln(w, "direct")
					return
				}
				http.Error(w, "not ok", http.StatusInternalServerError)
			}))
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}()
	}
	if d, err := time.ParseDuration(os.Getenv("DIE_AFTER")); err == nil {
		time.AfterFunc(d, func() {
			fmt.Println("dying")
			os.Exit(3)
		})
	}
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
	if r := os.Getenv("READY"); r != "" { // the signal handler is in place from here on
		_ = os.WriteFile(r, []byte("ready\n"), 0o644)
	}
	s := <-sig
	if m := os.Getenv("MARKER"); m != "" {
		_ = os.WriteFile(m, []byte(s.String()+"\n"), 0o644)
	}
	fmt.Println("got", s)
}
