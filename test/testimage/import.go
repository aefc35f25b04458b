package testimage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// BuiltByLabel marks the images this package builds, so that it only ever replaces its own.
const (
	BuiltByLabel = "org.helios.built-by"
	builtBy      = "helios-testimage"
)

// ErrForeignImage is returned (wrapped) when the tag to build already names an image this
// package did not build (a busybox:latest pulled from a registry, say): it is left alone.
var ErrForeignImage = errors.New("the tag names an image not built by Helios")

// importImage imports a root file system tar as tag with the given Dockerfile changes. An
// existing image under tag is replaced only if this package built it (or force), and is
// then removed (when no container uses it), so repeated test runs do not pile up dangling
// images.
func importImage(ctx context.Context, rootfs []byte, tag string, force bool, changes ...string) error {
	oldID, oldBuilder := imageBuilder(ctx, tag)
	if oldID != "" && oldBuilder != builtBy && !force {
		return fmt.Errorf("%s already exists (image %.19s) and was not built by Helios; not replacing it: %w", tag, oldID, ErrForeignImage)
	}
	changes = append(changes, "LABEL "+BuiltByLabel+"="+builtBy)
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
	if oldID != "" && !strings.Contains(string(out), strings.TrimPrefix(oldID, "sha256:")) {
		_ = exec.CommandContext(ctx, "docker", "rmi", oldID).Run() //nolint:errcheck // in use by a container: keep it
	}
	return nil
}

// imageBuilder is the id of the image under tag ("" when there is none) and the value of
// its BuiltByLabel ("" when it has none).
func imageBuilder(ctx context.Context, tag string) (id, builder string) {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}} {{json .Config.Labels}}", tag).Output()
	if err != nil {
		return "", ""
	}
	id, labelsJSON, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	var labels map[string]string
	_ = json.Unmarshal([]byte(labelsJSON), &labels) // "null" or an object
	return id, labels[BuiltByLabel]
}
