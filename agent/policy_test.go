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

// The state dir holds jobs' environments: it is 0700 and its files 0600, even when it
// existed readable by others.
func TestStateDirIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sd, err := openStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sd.close()
	if _, err := sd.hostID(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for others", e.Name(), info.Mode().Perm())
		}
	}
}
