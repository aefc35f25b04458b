package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
)

// needDocker skips in -short runs; without an engine it skips naming why, or fails under
// HELIOS_REQUIRE_DOCKER=1 (CI), where a skip would hide that the scenario never ran.
func needDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: needs Docker and the built binaries (run without -short)")
	}
	harness.NeedDocker(t)
}

// needBusybox builds the local busybox:latest image from Debian's busybox-static.
func needBusybox(t *testing.T) { t.Helper(); harness.NeedBusybox(t) }

// needTestImage builds the local helios-test:latest image (a static Go program, FROM scratch).
func needTestImage(t *testing.T) { t.Helper(); harness.NeedTestImage(t) }

// removeHostContainers removes every container an agent named host made, when the test ends.
func removeHostContainers(t *testing.T, host string) {
	t.Cleanup(func() {
		out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=helios.host="+host).Output()
		if ids := strings.Fields(string(out)); len(ids) > 0 {
			_ = exec.Command("docker", append([]string{"rm", "-f", "-v"}, ids...)...).Run()
		}
	})
}

// helios runs the CLI binary against master and returns its stdout; a non-zero exit fails
// the test with everything it printed.
func helios(t *testing.T, bins harness.Binaries, master string, args ...string) string {
	t.Helper()
	out, code := heliosCode(t, bins, master, args...)
	if code != 0 {
		t.Fatalf("helios %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// heliosCode runs the CLI binary and returns its combined output and exit code.
func heliosCode(t *testing.T, bins harness.Binaries, master string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.Path("helios"), append([]string{"-z", master}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return out.String(), ee.ExitCode()
		}
		t.Fatalf("run helios: %v", err)
	}
	return out.String(), 0
}

// dockerInspect returns a docker inspect --format value of a container.
func dockerInspect(t *testing.T, format, id string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "--format", format, id).CombinedOutput()
	if err != nil {
		t.Fatalf("docker inspect %s: %v: %s", id, err, out)
	}
	return strings.TrimSpace(string(out))
}

// hostContainers lists the ids (full) of the containers of agent host, running or not.
func hostContainers(t *testing.T, host string) []string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-aq", "--no-trunc", "--filter", "label=helios.host="+host).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	return strings.Fields(string(out))
}

// historyStates is the STATE column of `helios history` for one host.
func historyStates(out, host string) []string {
	var states []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[0] == host {
			states = append(states, f[3])
		}
	}
	return states
}

func soloArgs(t *testing.T, host string) (args []string, master string) {
	api := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	dir := t.TempDir()
	return []string{
		"--name", host,
		"--http", api,
		"--data-dir", dir + "/etcd",
		"--state-dir", dir + "/agent",
		"--etcd-client-url", fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(t)),
		"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(t)),
		"--lease-ttl", "2s",
		"--resync-interval", "2s",
		"--port-range", "24000:24100",
	}, "http://" + api
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
