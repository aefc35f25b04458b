package cli

import (
	_ "embed"
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask helios itself for the candidates (urfave's
// --generate-bash-completion), so they never go stale as commands and flags change. They
// are embedded: `helios completion` works offline and prints the script of this version.
var (
	//go:embed completion/helios.bash
	bashCompletion string
	//go:embed completion/helios.zsh
	zshCompletion string
)

// shells are the shells `helios completion` knows, in the order its help lists them.
var shells = []string{"bash", "zsh", "fish"}

// parseShell reads the argument of `helios completion`: a shell name, any case.
func parseShell(s string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for _, sh := range shells {
		if name == sh {
			return sh, nil
		}
	}
	return "", fmt.Errorf("unknown shell %q: want one of %s", s, strings.Join(shells, ", "))
}

// completionCommand prints a shell's completion script. It talks to no master.
func (r *runner) completionCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script",
		ArgsUsage: "bash|zsh|fish",
		UsageText: "helios completion bash|zsh|fish\n\n" +
			"   source <(helios completion bash)        (add it to ~/.bashrc)\n" +
			"   helios completion zsh > \"${fpath[1]}/_helios\"\n" +
			"   helios completion fish > ~/.config/fish/completions/helios.fish",
		Description: "Prints the script that completes helios commands and flags in the shell.",
		Action:      r.completion,
	}
}

func (r *runner) completion(c *ucli.Context) error {
	pos, _, _ := positionals(c)
	if len(pos) != 1 {
		return usagef("completion takes one argument, the shell: %s", strings.Join(shells, ", "))
	}
	sh, err := parseShell(pos[0])
	if err != nil {
		return usagef("%s", err.Error())
	}
	var script string
	switch sh {
	case "bash":
		script = bashCompletion
	case "zsh":
		script = zshCompletion
	case "fish":
		script, err = c.App.ToFishCompletion()
		if err != nil {
			return fmt.Errorf("fish completion: %w", err)
		}
	}
	_, err = fmt.Fprint(r.stdout, script)
	return err
}
