package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/test/testimage"
)

// RequireDockerEnv names the variable that makes a missing Docker engine, test image or
// busybox-static a failure instead of a skip. CI (.ci/run) sets it: there a skipped Docker
// scenario would let `make test` pass with nothing run.
const RequireDockerEnv = "HELIOS_REQUIRE_DOCKER"

// ParseRequire reads the value of HELIOS_REQUIRE_DOCKER: empty means not required.
func ParseRequire(v string) (bool, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want 1 or 0 (true or false)", RequireDockerEnv, v)
	}
	return b, nil
}

// Missing reports a precondition the test cannot run without, naming it: a failure when
// HELIOS_REQUIRE_DOCKER says the run must be complete, a skip otherwise.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	required, err := ParseRequire(os.Getenv(RequireDockerEnv))
	if err != nil {
		t.Fatalf("%v (and the test cannot run: %s)", err, msg)
	}
	if required {
		t.Fatalf("%s=1 and the test cannot run: %s", RequireDockerEnv, msg)
	}
	t.Skipf("skipping: %s (set %s=1 to make this a failure)", msg, RequireDockerEnv)
}

// DockerProblem says why the Docker engine cannot be used, nil when `docker info` works.
func DockerProblem() error {
	out, err := exec.Command("docker", "info").CombinedOutput()
	if err != nil {
		return fmt.Errorf("the Docker engine is not reachable (`docker info`: %v: %s)", err, bytes.TrimSpace(out))
	}
	return nil
}

// NeedDocker skips, or fails under HELIOS_REQUIRE_DOCKER=1, when the engine is unreachable.
func NeedDocker(t testing.TB) {
	t.Helper()
	if err := DockerProblem(); err != nil {
		Missing(t, "%v", err)
	}
}

// NeedBusybox imports the local busybox:latest from Debian's busybox-static; a missing
// package skips, or fails under HELIOS_REQUIRE_DOCKER=1. A busybox:latest that Helios did
// not build (pulled by the machine's owner) is used as it is, never replaced.
func NeedBusybox(t testing.TB) {
	t.Helper()
	NeedDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := testimage.BuildBusybox(ctx, testimage.BusyboxTag, false)
	switch {
	case errors.Is(err, testimage.ErrForeignImage):
		t.Logf("using the machine's own %s: %v", testimage.BusyboxTag, err)
	case err != nil:
		Missing(t, "no %s image: %v", testimage.BusyboxTag, err)
	}
}

// NeedTestImage builds the local helios-test:latest image (a static Go program, FROM
// scratch). It needs only Go and the engine, so a failed build is always a failure.
func NeedTestImage(t testing.TB) {
	t.Helper()
	NeedDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := testimage.Build(ctx, testimage.Tag); err != nil {
		t.Fatalf("build the test image %s: %v", testimage.Tag, err)
	}
}
