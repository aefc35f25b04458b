package daemon

import (
	"path/filepath"
	"strings"
	"testing"
)

// urfave/cli takes the first back-quoted word of a flag's Usage as the value placeholder.
func TestMasterFlagsShowPlainPlaceholders(t *testing.T) {
	for _, f := range MasterFlags() {
		help := f.String()
		if f.Names()[0] == "name" && !strings.HasPrefix(help, "--name NAME\t") {
			t.Errorf("--name help %q, want the placeholder NAME", help)
		}
		if strings.Contains(help, "--"+f.Names()[0]+" helios") {
			t.Errorf("help shows a sentence as placeholder: %q", help)
		}
	}
}

func TestDataDirDefaultsAreFixed(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if got, want := HomeDir("master"), filepath.Join(home, ".helios", "master"); got != want {
		t.Errorf("HomeDir(master) = %q, want %q", got, want)
	}
	t.Setenv("HOME", "")
	if got := HomeDir("master"); !filepath.IsAbs(got) {
		t.Errorf("without a home, HomeDir(master) = %q: relative to wherever the daemon starts", got)
	}
}

func TestCheckEmbeddedClientURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		tls bool
		ok  bool
	}{
		{"http://127.0.0.1:2379", false, true},
		{"http://localhost:2379", false, true},
		{"http://[::1]:2379", false, true},
		{"http://0.0.0.0:2379", false, false},
		{"http://10.0.0.5:2379", false, false},
		{"https://10.0.0.5:2379", true, true},
		{"https://10.0.0.5:2379", false, false},
		{"http://10.0.0.5:2379", true, false},
		{"not a url", false, false},
	} {
		if err := checkEmbeddedClientURL(tc.url, tc.tls); (err == nil) != tc.ok {
			t.Errorf("checkEmbeddedClientURL(%q, tls=%v) = %v, want ok=%v", tc.url, tc.tls, err, tc.ok)
		}
	}
}
