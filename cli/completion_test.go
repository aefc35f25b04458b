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

	"github.com/helios-go/helios/test/harness"
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
		harness.Missing(t, "bash is not installed (Debian package bash)")
	}
	bin := heliosBinary(t)
	script := `set -e
source <(helios completion bash)
complete -p helios
# As bash does: the line up to the cursor, and COMP_WORDS split at COMP_WORDBREAKS too.
complete_line() {
  COMP_LINE="$1"; COMP_POINT=${#1}
  read -r -a COMP_WORDS <<< "${1//:/ : }"; COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMPREPLY=(); _helios_complete; echo "${COMPREPLY[*]}"
}
complete_line "helios dep"
complete_line "helios rolling"
complete_line "helios deploy --no"
complete_line "helios -z http://127.0.0.1:1 undep"
complete_line "helios --json -z http://127.0.0.1:1 jobs --qu"
`
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	want := []string{
		"complete -o bashdefault -o default -F _helios_complete helios",
		"deploy deployment-group-status",
		"rolling-update",
		"--no-start",
		"undeploy",
		"--quiet",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("bash completion:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}

// The zsh and fish scripts, where those shells are installed (.ci/run installs them), offer
// command names and a command's flags too. zsh's completion system is stubbed: the test
// sees the candidates _helios hands to _describe.
func TestZshAndFishComplete(t *testing.T) {
	bin := heliosBinary(t)
	path := filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	for _, tc := range []struct {
		shell  string
		args   []string
		script string
		want   []string
	}{
		{"zsh", []string{"-f", "-c"}, `
compdef() { :; }
_describe() { print -r -- "${(@P)2}" }
_files() { print FILES }
source <(helios completion zsh)
words=(helios dep); CURRENT=2; _helios
words=(helios -z http://127.0.0.1:1 deploy --no); CURRENT=5; _helios
`, []string{"deploy", "deployment-group-status", "--no-start"}},
		{"fish", []string{"--no-config", "-c"}, `
helios completion fish | source
complete -C "helios dep"
complete -C "helios deploy --no"
`, []string{"deploy", "deployment-group-status", "--no-start"}},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			sh, err := exec.LookPath(tc.shell)
			if err != nil {
				harness.Missing(t, "%s is not installed (apt-get install %s)", tc.shell, tc.shell)
			}
			if _, err := exec.Command(sh, "-n", "/dev/null").CombinedOutput(); err != nil {
				t.Fatalf("%s -n: %v", tc.shell, err)
			}
			cmd := exec.Command(sh, append(tc.args, tc.script)...)
			cmd.Env = append(os.Environ(), "PATH="+path)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", tc.shell, err, out)
			}
			for _, w := range tc.want {
				if !regexp.MustCompile(`(?m)(^| )` + regexp.QuoteMeta(w) + `(\s|$)`).Match(out) {
					t.Errorf("%s offers no %q:\n%s", tc.shell, w, out)
				}
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
