// Package testimage builds the image end-to-end tests run, locally (nothing can be pulled):
// the static program in ./prog, alone in an image FROM scratch.
package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Tag is the image's name.
const Tag = "helios-test:latest"

// Build compiles prog (CGO_ENABLED=0) and imports it into the local Docker engine as tag,
// with /prog as entrypoint. It uses the docker CLI so that only agent/docker imports moby.
func Build(ctx context.Context, tag string) error {
	_, self, _, _ := runtime.Caller(0)
	dir, err := os.MkdirTemp("", "testimage")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "prog")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./prog")
	build.Dir = filepath.Dir(self)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build test program: %w\n%s", err, out)
	}
	prog, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"tmp/", "etc/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o1777, Typeflag: tar.TypeDir}); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "prog", Mode: 0o755, Size: int64(len(prog)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(prog); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	imp := exec.CommandContext(ctx, "docker", "import", "--change", `ENTRYPOINT ["/prog"]`, "-", tag)
	imp.Stdin = &buf
	if out, err := imp.CombinedOutput(); err != nil {
		return fmt.Errorf("docker import %s: %w\n%s", tag, err, out)
	}
	return nil
}
