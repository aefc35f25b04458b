package daemon

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// maxPasswordLen bounds a password file: etcd hashes passwords with bcrypt, which uses
// only the first 72 bytes, so anything much longer is a wrong file.
const maxPasswordLen = 256

// ParsePasswordFile reads a password file's content: one line, its final newline (\n or
// \r\n) dropped, printable UTF-8 without control characters, 1 to maxPasswordLen bytes.
func ParsePasswordFile(data []byte) (string, error) {
	s := string(data)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s = strings.TrimSuffix(t, "\r")
	}
	switch {
	case s == "":
		return "", errors.New("the password file is empty")
	case len(s) > maxPasswordLen:
		return "", fmt.Errorf("the password file holds %d bytes, more than %d: is it the right file?", len(s), maxPasswordLen)
	case !utf8.ValidString(s):
		return "", errors.New("the password is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", errors.New("the password file holds more than one line or a control character")
		}
	}
	return s, nil
}

// ReadPasswordFile reads and checks a password file, refusing one any user may read.
func ReadPasswordFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o007 != 0 {
		return "", fmt.Errorf("password file %s can be read by every user (mode %o): chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	pw, err := ParsePasswordFile(data)
	if err != nil {
		return "", fmt.Errorf("password file %s: %w", path, err)
	}
	return pw, nil
}

// newPassword is 24 random bytes, URL-safe base64 (32 characters).
func newPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b)
}

// writePasswordFile writes pw to path (mode 0600, its directory made 0700 if missing)
// through a temporary file renamed over it, so a reader never sees half a password.
func writePasswordFile(path, pw string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(pw + "\n"); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// passwordFrom reads path when it exists, else makes a new password and writes it there;
// created tells which.
func passwordFrom(path string) (pw string, created bool, err error) {
	pw, err = ReadPasswordFile(path)
	if err == nil {
		return pw, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	pw = newPassword()
	if err := writePasswordFile(path, pw); err != nil {
		return "", false, fmt.Errorf("write password file: %w", err)
	}
	return pw, true, nil
}
