package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// CoreDNS builds the minimal CoreDNS of test/coredns (its own module: the etcd, log and
// errors plugins only) once, into a cache directory named after a hash of its go.mod, go.sum
// and main.go, so later runs reuse it without even invoking the Go tool. A build that
// fails (no module proxy and no module cache) is a missing precondition.
func CoreDNS(t testing.TB) string {
	t.Helper()
	src := filepath.Join(ModuleRoot(t), "test", "coredns")
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum", filepath.Join("cmd", "coredns", "main.go")} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatalf("read the CoreDNS sources: %v", err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "helios-test", "coredns-"+hex.EncodeToString(h.Sum(nil))[:16])
	bin := filepath.Join(dir, "coredns")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("CoreDNS cache dir: %v", err)
	}
	// Built beside, then renamed: a build cut short never leaves a half binary in the cache.
	tmp := bin + ".tmp-" + strconv.Itoa(os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, "./cmd/coredns")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		Missing(t, "build the test CoreDNS (test/coredns; needs the Go module proxy or a module cache): %v\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatalf("cache the CoreDNS binary: %v", err)
	}
	t.Logf("built CoreDNS into %s in %s", bin, time.Since(start).Round(time.Second))
	return bin
}

// StartCoreDNS runs the test CoreDNS serving zone from the SkyDNS records under path in
// the etcd at endpoint, on a free loopback UDP port, and returns its address once it
// answers. It stops when the test ends.
func StartCoreDNS(t testing.TB, bin, zone, endpoint, path string) string {
	t.Helper()
	port := FreeUDPPort(t)
	corefile := filepath.Join(t.TempDir(), "Corefile")
	conf := fmt.Sprintf("%s:%d {\n    errors\n    log\n    etcd {\n        path %s\n        endpoint %s\n    }\n}\n", zone, port, path, endpoint)
	if err := os.WriteFile(corefile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	Start(t, bin, "-conf", corefile)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	r := Resolver(addr)
	Eventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		// An answer, NXDOMAIN included, means it serves.
		_, err := r.LookupTXT(ctx, "probe."+zone)
		var de *net.DNSError
		if err == nil || errors.As(err, &de) && de.IsNotFound {
			return nil
		}
		return err
	})
	return addr
}

// Resolver sends every query to the DNS server at addr.
func Resolver(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// FreeUDPPort is a UDP port free on 127.0.0.1 and on the wildcard address (CoreDNS without
// its bind plugin listens on every address) at the time of the call.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	for range 20 {
		port := FreePort(t) // free for TCP, which CoreDNS also listens on
		c, err := net.ListenPacket("udp", ":"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return port
		}
	}
	t.Fatal("no free UDP port")
	return 0
}
