package testimage

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// importImage imports a root file system tar as tag with the given Dockerfile changes. The
// image it replaces under that tag is removed (when no container uses it), so repeated test
// runs do not pile up dangling images.
func importImage(ctx context.Context, rootfs []byte, tag string, changes ...string) error {
	old, _ := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", tag).Output()
	args := []string{"import"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	imp := exec.CommandContext(ctx, "docker", append(args, "-", tag)...)
	imp.Stdin = bytes.NewReader(rootfs)
	out, err := imp.CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker import %s: %w\n%s", tag, err, out)
	}
	if oldID := strings.TrimSpace(string(old)); oldID != "" && !strings.Contains(string(out), strings.TrimPrefix(oldID, "sha256:")) {
		_ = exec.CommandContext(ctx, "docker", "rmi", oldID).Run() //nolint:errcheck // in use by a container: keep it
	}
	return nil
}
