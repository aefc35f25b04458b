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
	layer, err := LayerTar(ctx)
	if err != nil {
		return err
	}
	return importImage(ctx, layer, tag, true, `ENTRYPOINT ["/prog"]`) // the tag is ours by name
}

// LayerTar compiles prog and returns the image's only layer: a tar of /prog, /tmp and
// /etc. Tests that push the image to a registry of their own build it from this, with
// /prog as entrypoint.
func LayerTar(ctx context.Context) ([]byte, error) {
	_, self, _, _ := runtime.Caller(0)
	dir, err := os.MkdirTemp("", "testimage")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "prog")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./prog")
	build.Dir = filepath.Dir(self)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build test program: %w\n%s", err, out)
	}
	prog, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"tmp/", "etc/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o1777, Typeflag: tar.TypeDir}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "prog", Mode: 0o755, Size: int64(len(prog)), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(prog); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
