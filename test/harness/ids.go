package harness

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"testing"
)

// RunID is a short random id for labelling what one test run creates (containers, hosts,
// jobs), so clean-up never touches anything else.
func RunID(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random run id: %v", err)
	}
	return hex.EncodeToString(b)
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
