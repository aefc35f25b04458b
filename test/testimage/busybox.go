package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// BusyboxTag is the name the local busybox image gets.
const BusyboxTag = "busybox:latest"

// BusyboxPath is where Debian's busybox-static package puts its static binary.
const BusyboxPath = "/bin/busybox"

// BuildBusybox imports a busybox image (a shell and the usual tools, as the manual's
// examples expect) from the static binary of Debian's busybox-static package: /bin/busybox
// plus a link per applet, /bin/sh as the default command. Nothing is pulled. An image
// under tag that Helios did not build is not replaced unless force: ErrForeignImage.
func BuildBusybox(ctx context.Context, tag string, force bool) error {
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return fmt.Errorf("busybox image needs Debian's busybox-static package (apt-get install busybox-static): %w", err)
	}
	list, err := exec.CommandContext(ctx, BusyboxPath, "--list").Output()
	if err != nil {
		return fmt.Errorf("%s --list: %w", BusyboxPath, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"bin/", "tmp/", "etc/", "root/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o1777, Typeflag: tar.TypeDir}); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(bin); err != nil {
		return err
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: "bin/" + applet, Linkname: "busybox", Mode: 0o777, Typeflag: tar.TypeSymlink}); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return importImage(ctx, buf.Bytes(), tag, force, `CMD ["/bin/sh"]`, `ENV PATH=/bin`)
}
