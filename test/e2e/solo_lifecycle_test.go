package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
)

// needBinaries skips in -short runs: these tests start the built binaries (no Docker: the
// solo agent runs its containers in memory with --fake-runtime).
func needBinaries(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: needs the built binaries (run without -short)")
	}
}

// logLines are the JSON log lines of a process's output (stdout lines are plain text).
func logLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "{") {
			lines = append(lines, l)
		}
	}
	return lines
}

// A SIGTERM stops solo cleanly: no error-level log line, one "stopped" line as the last.
func TestSoloStopsCleanlyOnSIGTERM(t *testing.T) {
	needBinaries(t)
	bins := harness.BuildBinaries(t)
	host := "solo-stop-" + harness.RunID(t)
	args, master := soloArgs(t, host)
	p := harness.Start(t, bins.Path("helios-solo"), append(args, "--fake-runtime", "--agent-metrics", "")...)
	harness.Eventually(t, 60*time.Second, func() error {
		resp, err := http.Get(master + "/hosts/" + host + "/status")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), `"status":"UP"`) {
			return fmt.Errorf("host not UP yet: %d %s", resp.StatusCode, body)
		}
		return nil
	})
	harness.Eventually(t, 30*time.Second, func() error {
		if !strings.Contains(p.Output(), "try: helios -z "+master+" hosts") {
			return fmt.Errorf("no banner yet")
		}
		return nil
	})

	p.Signal(syscall.SIGTERM)
	if err := p.Wait(60 * time.Second); err != nil {
		t.Fatalf("solo after SIGTERM: %v\n%s", err, p.Output())
	}
	logs := logLines(p.Output())
	for _, l := range logs {
		if strings.Contains(l, `"level":"error"`) {
			t.Errorf("error logged by a clean stop: %s", l)
		}
	}
	if n := strings.Count(p.Output(), `"msg":"stopped"`); n != 1 || !strings.Contains(logs[len(logs)-1], `"msg":"stopped"`) {
		t.Errorf("want one \"stopped\" line, the last; got %d:\n%s", n, p.Output())
	}
}

// A failing start ends with the error as its last line, without the "try:" banner before it
// and without etcd's errors around it.
func TestSoloFailingStartEndsWithTheError(t *testing.T) {
	needBinaries(t)
	bins := harness.BuildBinaries(t)
	for _, tc := range []struct{ flag, want string }{
		{"--http", "helios-solo: master: listen for the API on "},
		{"--agent-metrics", "helios-solo: agent: agent metrics on "},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			taken, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { taken.Close() })
			args, _ := soloArgs(t, "solo-fail-"+harness.RunID(t))
			args = append(args, "--fake-runtime", "--agent-metrics", "")
			for i, a := range args {
				if a == tc.flag {
					args[i+1] = taken.Addr().String()
				}
			}
			p := harness.Start(t, bins.Path("helios-solo"), args...)
			if err := p.Wait(60 * time.Second); err == nil {
				t.Fatalf("solo started with %s on a taken port:\n%s", tc.flag, p.Output())
			}
			out := strings.TrimSpace(p.Output())
			last := out[strings.LastIndex(out, "\n")+1:]
			want := tc.want + taken.Addr().String()
			if !strings.HasPrefix(last, want) || !strings.HasSuffix(last, "address already in use") {
				t.Errorf("last line %q, want the error %q…\n%s", last, want, out)
			}
			if strings.Contains(out, "try: helios") || strings.Contains(out, `"level":"error"`) {
				t.Errorf("a failed start shows the banner or etcd's errors:\n%s", out)
			}
		})
	}
}
