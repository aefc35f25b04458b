package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

func TestParseShell(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{in: "bash", want: "bash"},
		{in: "zsh", want: "zsh"},
		{in: "fish", want: "fish"},
		{in: " Bash ", want: "bash"},
		{in: "", err: true},
		{in: "tcsh", err: true},
		{in: "bash zsh", err: true},
		{in: "powershell", err: true},
	} {
		got, err := parseShell(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseShell(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), "bash, zsh, fish") {
			t.Errorf("parseShell(%q): the error does not list the shells: %v", tc.in, err)
		}
	}
}

func FuzzParseShell(f *testing.F) {
	for _, s := range []string{"bash", "ZSH", "fish ", "", "sh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseShell(s)
		if err != nil {
			if got != "" {
				t.Fatalf("parseShell(%q) = %q with error %v", s, got, err)
			}
			return
		}
		if again, err := parseShell(got); err != nil || again != got {
			t.Fatalf("parseShell(%q) = %q does not parse back: %q, %v", s, got, again, err)
		}
	})
}

// runOffline runs one command line in-process with no master configured.
func runOffline(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

// Each shell gets its script without any master; anything else is a usage error naming
// the shells.
func TestCompletionPrintsEachShellsScript(t *testing.T) {
	for sh, marker := range map[string]string{
		"bash": "complete -o bashdefault -o default -F _helios_complete helios",
		"zsh":  "compdef _helios helios",
		"fish": "-n '__fish_helios_no_subcommand' -a 'deploy'",
	} {
		code, out, errOut := runOffline(t, "completion", sh)
		if code != 0 || !strings.Contains(out, marker) {
			t.Errorf("completion %s: exit %d, stderr %q, no %q in:\n%s", sh, code, errOut, marker, out)
		}
	}
	// Several -z masters do not print the script once per cluster.
	if code, out, _ := runOffline(t, "-z", "http://a:1", "-z", "http://b:1", "completion", "bash"); code != 0 || strings.Count(out, "_helios_complete()") != 1 {
		t.Errorf("completion with two masters: exit %d:\n%s", code, out)
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		code, out, errOut := runOffline(t, args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "bash, zsh, fish") {
			t.Errorf("helios %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
	}
}

// heliosBinary is the helios command the shell scripts call: $HELIOS_BIN_DIR/helios when
// the Makefile built it, else one built now.
func heliosBinary(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("HELIOS_BIN_DIR"); dir != "" {
		return filepath.Join(dir, "helios")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir, "github.com/helios-go/helios/cmd/helios")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/helios: %v\n%s", err, out)
	}
	return filepath.Join(dir, "helios")
}

// The bash script, loaded as a user would, completes command names and a command's flags
// by asking the helios on PATH.
func TestBashCompletionCompletesCommandsAndFlags(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("skipping: bash is not installed")
	}
	bin := heliosBinary(t)
	script := `set -e
source <(helios completion bash)
complete -p helios
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _helios_complete; echo "${COMPREPLY[*]}"; }
complete_words helios dep
complete_words helios rolling
complete_words helios deploy --no
complete_words helios -z http://127.0.0.1:1 undep
`
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{
		"complete -o bashdefault -o default -F _helios_complete helios",
		"deploy deployment-group-status",
		"rolling-update",
		"--no-start",
		"undeploy",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("bash completion:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}

// The zsh and fish scripts are at least valid for their shells, where those are installed.
func TestZshAndFishScriptsParse(t *testing.T) {
	for _, tc := range []struct{ shell, flag string }{{"zsh", "-n"}, {"fish", "--no-execute"}} {
		t.Run(tc.shell, func(t *testing.T) {
			path, err := exec.LookPath(tc.shell)
			if err != nil {
				t.Skipf("skipping: %s is not installed", tc.shell)
			}
			code, script, errOut := runOffline(t, "completion", tc.shell)
			if code != 0 {
				t.Fatalf("completion %s: %s", tc.shell, errOut)
			}
			file := filepath.Join(t.TempDir(), "helios."+tc.shell)
			if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(path, tc.flag, file).CombinedOutput(); err != nil {
				t.Fatalf("%s %s: %v\n%s", tc.shell, tc.flag, err, out)
			}
		})
	}
}

// Every command, and every subcommand if one ever has some, shows an example of itself in
// `helios help <command>`: a line after the synopsis that runs it.
func TestEveryCommandHasAnExample(t *testing.T) {
	app := newRunner(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, func(string) string { return "" }).newApp()
	if len(app.Commands) < 20 {
		t.Fatalf("only %d commands: is the tree built elsewhere now?", len(app.Commands))
	}
	var walk func(prefix string, cmds []*ucli.Command)
	walk = func(prefix string, cmds []*ucli.Command) {
		for _, c := range cmds {
			name := prefix + " " + c.Name
			_, examples, _ := strings.Cut(c.UsageText, "\n\n")
			// "helios -z URL jobs" runs jobs too: global flags may come between.
			words := strings.Fields(name)
			example := regexp.MustCompile(`(?m)\b` + strings.Join(words[:len(words)-1], " ") + `\b.*\s` + regexp.QuoteMeta(c.Name) + `(\s|$)`)
			if !example.MatchString(examples) {
				t.Errorf("%q has no example in its UsageText %q", strings.TrimSpace(name), c.UsageText)
			}
			walk(name, c.Subcommands)
		}
	}
	walk("helios", app.Commands)
}
