package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/helios-go/helios/test/harness"
)

// unit is a shipped systemd unit, its example environment file and the binary it starts.
type unit struct {
	name, env, binary string
	// maxExposure is the highest `systemd-analyze security` exposure (0-100) allowed: the
	// master needs nothing of the host, the agent drives Docker as root.
	maxExposure string
}

var units = []unit{
	{name: "helios-master.service", env: "helios-master.env", binary: "helios-master", maxExposure: "20"},
	{name: "helios-agent.service", env: "helios-agent.env", binary: "helios-agent", maxExposure: "50"},
}

func systemdDir(t *testing.T) string {
	return filepath.Join(harness.ModuleRoot(t), "deploy", "systemd")
}

// systemdAnalyze is the path of systemd-analyze (Debian's systemd; .ci/run installs it).
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and systemd-analyze is missing (apt-get install systemd): %v", err)
		}
		harness.Missing(t, "systemd-analyze is not installed (apt-get install systemd)")
	}
	return path
}

// The units load cleanly in systemd (no unknown keys, bad values or missing binaries, with
// ExecStart pointed at the built binaries), and their hardening keeps the exposure score low.
func TestSystemdUnitsVerify(t *testing.T) {
	sa := systemdAnalyze(t)
	bins := harness.BuildBinaries(t)
	dir := t.TempDir()
	for _, u := range units {
		raw, err := os.ReadFile(filepath.Join(systemdDir(t), u.name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), "ExecStart=/usr/local/bin/"+u.binary+" ") {
			t.Fatalf("%s does not start /usr/local/bin/%s", u.name, u.binary)
		}
		local := strings.ReplaceAll(string(raw), "/usr/local/bin/", bins.Dir+"/")
		if err := os.WriteFile(filepath.Join(dir, u.name), []byte(local), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range units {
		path := filepath.Join(dir, u.name)
		// verify exits 0 on unknown keys too, and only warns: any output is a failure.
		out, err := exec.Command(sa, "verify", path).CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", u.name, err, out)
		}
		out, err = exec.Command(sa, "security", "--offline=yes", "--threshold="+u.maxExposure, path).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze security %s above %s: %v\n%s", u.name, u.maxExposure, err, out)
		}
	}
}

// readEnvFile reads a systemd EnvironmentFile: NAME=value lines, # comments.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not NAME=value", path, line)
		}
		env[k] = v
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

var (
	unitVar = regexp.MustCompile(`\$\{?([A-Z_]+)\}?`)
	flagArg = regexp.MustCompile(`^--[a-z0-9-]+`)
)

// Every flag the units and their example environment files pass is one the binary has, and
// every variable of an environment file is used by the unit's ExecStart or read by the binary
// itself ([$NAME] in its --help): a misspelt flag or variable fails here, not at a customer's
// first start.
func TestSystemdUnitsPassOnlyRealFlags(t *testing.T) {
	bins := harness.BuildBinaries(t)
	for _, u := range units {
		raw, err := os.ReadFile(filepath.Join(systemdDir(t), u.name))
		if err != nil {
			t.Fatal(err)
		}
		var execStart string
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
				execStart = v
			}
		}
		env := readEnvFile(t, filepath.Join(systemdDir(t), u.env))
		if !strings.Contains(string(raw), "EnvironmentFile=/etc/helios/"+strings.TrimPrefix(u.env, "helios-")+"\n") {
			t.Errorf("%s does not read /etc/helios/%s", u.name, strings.TrimPrefix(u.env, "helios-"))
		}
		help, err := exec.Command(bins.Path(u.binary), "--help").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --help: %v\n%s", u.binary, err, help)
		}
		usedByUnit := map[string]bool{}
		expanded := unitVar.ReplaceAllStringFunc(execStart, func(m string) string {
			name := unitVar.FindStringSubmatch(m)[1]
			usedByUnit[name] = true
			v, ok := env[name]
			if !ok {
				t.Errorf("%s uses $%s, which %s does not set", u.name, name, u.env)
			}
			return v
		})
		for name := range env {
			if !usedByUnit[name] && !strings.Contains(string(help), "[$"+name+"]") {
				t.Errorf("%s sets %s, which neither %s nor %s reads", u.env, name, u.name, u.binary)
			}
		}
		flags := 0
		for _, arg := range strings.Fields(expanded) {
			if f := flagArg.FindString(arg); f != "" {
				flags++
				if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(f) + `[ ,=]`).Match(help) {
					t.Errorf("%s passes %s, which %s does not have", u.name, f, u.binary)
				}
			}
		}
		if flags < 8 {
			t.Errorf("%s: only %d flags found in %q", u.name, flags, expanded)
		}
	}
}
