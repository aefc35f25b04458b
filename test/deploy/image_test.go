package deploy

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/test/harness"
)

// `make image` builds an image of the static binaries and nothing else (no base image is
// pulled: FROM scratch), and each binary runs in it.
func TestMakeImageRunsTheBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds every binary and an image (run without -short)")
	}
	harness.NeedDocker(t)
	image := "helios-image-test:" + harness.RunID(t)
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", image).Run() })
	run(t, harness.ModuleRoot(t), "make", "image", "IMAGE="+image, "BIN="+t.TempDir())

	if out := run(t, "", "docker", "run", "--rm", image, "--version"); !strings.Contains(out, "Client Version: "+model.Version) {
		t.Errorf("docker run %s --version: %q", image, out)
	}
	for _, bin := range []string{"helios-master", "helios-agent", "helios-solo"} {
		if out := run(t, "", "docker", "run", "--rm", "--entrypoint", bin, image, "--version"); !strings.Contains(out, model.Version) {
			t.Errorf("docker run --entrypoint %s %s --version: %q", bin, image, out)
		}
	}
	// Two layers, both ours (the skeleton root and the binaries): no base image under them.
	if out := strings.TrimSpace(run(t, "", "docker", "image", "inspect", "-f", "{{len .RootFS.Layers}}", image)); out != "2" {
		t.Errorf("%s has %s layers, want 2 (FROM scratch)", image, out)
	}
}
