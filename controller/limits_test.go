package controller

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
)

// limitedMaster starts a master with short server limits and returns its API address.
func limitedMaster(t *testing.T, opts func(*MasterConfig)) string {
	t.Helper()
	_, e := storetest.NewEtcd(t)
	cfg := MasterConfig{Name: "limits", HTTPAddr: "127.0.0.1:0", Store: storetest.Open(t, e, store.Config{}),
		ReadTimeout: time.Second, IdleTimeout: time.Second}
	opts(&cfg)
	m, err := NewMaster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return m.APIAddr().String()
}

// closedWithin tells whether the server closes conn within d (reads return EOF or reset).
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.ReadAll(conn)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func TestSlowRequestBodyIsCutOff(t *testing.T) {
	addr := limitedMaster(t, func(*MasterConfig) {})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers promise a body, which then trickles in a byte at a time.
	fmt.Fprintf(conn, "POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	stop := time.Now().Add(5 * time.Second)
	go func() {
		for time.Now().Before(stop) {
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	if !closedWithin(conn, 4*time.Second) {
		t.Fatal("a body trickled in for 4 s was still being read: the read timeout (1 s) did not cut it")
	}
}

func TestIdleConnectionIsClosed(t *testing.T) {
	addr := limitedMaster(t, func(*MasterConfig) {})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /version: %v %v", resp, err)
	}
	resp.Body.Close()
	// The keep-alive connection then sits idle: the server closes it after 1 s.
	if !closedWithin(conn, 4*time.Second) {
		t.Fatal("an idle keep-alive connection was still open after 4 s (idle timeout 1 s)")
	}
}

func TestOversizedHeadersAreRefused(t *testing.T) {
	addr := limitedMaster(t, func(c *MasterConfig) { c.MaxHeaderBytes = 4 << 10 })
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/version", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KiB of headers: %d, want 431", resp.StatusCode)
	}
}
