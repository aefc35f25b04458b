package agent

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolveHostPathFollowsLinksOfExistingParents(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	real, err := filepath.EvalSymlinks(target)
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		link:                            real,
		filepath.Join(link, "new", "f"): filepath.Join(real, "new", "f"),
		filepath.Join(dir, "plain"):     filepath.Join(filepath.Dir(real), "plain"),
		"/nonexistent-root-dir/x":       "/nonexistent-root-dir/x",
	} {
		if got := resolveHostPath(in); got != want {
			t.Errorf("resolveHostPath(%s) = %s, want %s", in, got, want)
		}
	}
}
