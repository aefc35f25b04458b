package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParsePasswordFile(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"secret", "secret", true},
		{"secret\n", "secret", true},
		{"secret\r\n", "secret", true},
		{"with spaces inside", "with spaces inside", true},
		{"pässwörd\n", "pässwörd", true},
		{"", "", false},
		{"\n", "", false},
		{"two\nlines", "", false},
		{"secret\n\n", "", false},
		{"tab\there", "", false},
		{"nul\x00", "", false},
		{"bad\xff", "", false},
		{strings.Repeat("a", 256), strings.Repeat("a", 256), true},
		{strings.Repeat("a", 257), "", false},
	} {
		got, err := ParsePasswordFile([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParsePasswordFile(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParsePasswordFile(f *testing.F) {
	for _, s := range []string{"secret\n", "a\r\n", "", "x\ny", "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pw, err := ParsePasswordFile(data)
		if err != nil {
			return
		}
		if pw == "" || len(pw) > maxPasswordLen || !utf8.ValidString(pw) || strings.ContainsAny(pw, "\n\r\x00") {
			t.Fatalf("%q parsed to %q", data, pw)
		}
		// Written as writePasswordFile writes it, it reads back the same.
		if again, err := ParsePasswordFile([]byte(pw + "\n")); err != nil || again != pw {
			t.Fatalf("%q parsed to %q, which reads back as %q, %v", data, pw, again, err)
		}
	})
}

func TestPasswordFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	path := filepath.Join(dir, "u.password")
	pw, created, err := passwordFrom(path)
	if err != nil || !created || len(pw) != 32 {
		t.Fatalf("first passwordFrom = %q, %v, %v; want a new 32-character password", pw, created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("password dir mode %v, %v; want 0700", di.Mode(), err)
	}
	again, created, err := passwordFrom(path)
	if err != nil || created || again != pw {
		t.Fatalf("second passwordFrom = %q, %v, %v; want the same password read back", again, created, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPasswordFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable password file: %v, want a refusal naming chmod 600", err)
	}
}
