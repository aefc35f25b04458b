package agent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// stateDir is the agent's directory on local disk: its host id (so a restarted agent
// re-registers under the same id) and a lock so two agents never share it. The last known
// deployments (outage.go), the cluster id and the record of the agent's containers
// (identity.go) are kept there too.
type stateDir struct {
	path string
	lock *os.File
}

// openStateDir creates dir if needed and locks it; a second agent on it gets an error. It
// holds every deployed job's environment (secrets among them): the directory is made
// 0700, and an existing one readable by others is tightened.
func openStateDir(dir string) (*stateDir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, fi.Mode().Perm()&0o700); err != nil {
			return nil, fmt.Errorf("state dir %s is readable by others and cannot be restricted: %w", dir, err)
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("state dir %s is in use by another agent: %w", dir, err)
	}
	return &stateDir{path: dir, lock: f}, nil
}

// hostID returns the id kept in the dir, creating a random one the first time.
func (s *stateDir) hostID() (string, error) {
	p := filepath.Join(s.path, "id")
	b, err := os.ReadFile(p)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read host id: %w", err)
	}
	r := make([]byte, 16)
	if _, err := rand.Read(r); err != nil {
		return "", fmt.Errorf("host id: %w", err)
	}
	id := hex.EncodeToString(r)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write host id: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("write host id: %w", err)
	}
	return id, nil
}

func (s *stateDir) close() { s.lock.Close() }
