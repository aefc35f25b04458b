package cli

import (
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// argSpec tells the normalizer which flags exist and whether each takes a value. Flag
// names are stored without dashes ("z", "master").
type argSpec struct {
	Global   map[string]bool            // global flag -> takes a value
	Commands map[string]map[string]bool // command name or alias -> its flags
}

// completionFlag is the last argument urfave's shell completion appends.
const completionFlag = "--generate-bash-completion"

// normalizeArgs reorders a command line (without the program name) so that urfave/cli,
// which stops reading flags at the first positional argument and reads global flags only
// before the command, sees: global flags, the command, its flags, then "--" and the
// positionals, then "--" and everything the user put after "--", untouched. Users write
// `helios create foo:1 busybox --env A=b -- sh -c x` and `helios jobs -z URL`; both
// orders must mean the same. A flag the command does not know but the globals do moves
// before the command; an unknown flag stays with the command so urfave reports it.
// Unknown commands and shell completion requests are returned unchanged.
func normalizeArgs(args []string, spec argSpec) []string {
	if len(args) > 0 && args[len(args)-1] == completionFlag {
		return completionArgs(args)
	}
	var globals, cmdFlags, pos, rest []string
	var cmdSpec map[string]bool
	cmd, hasCmd, dashdash := "", false, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest, dashdash = args[i+1:], true
			break
		}
		if len(a) < 2 || a[0] != '-' {
			if !hasCmd {
				cmd, hasCmd = a, true
				s, ok := spec.Commands[a]
				if !ok {
					return args
				}
				cmdSpec = s
				continue
			}
			pos = append(pos, a)
			continue
		}
		name, inline := flagName(a)
		dst, takes := &globals, false
		if hasCmd {
			dst = &cmdFlags
		}
		if tv, ok := cmdSpec[name]; hasCmd && ok {
			dst, takes = &cmdFlags, tv
		} else if tv, ok := spec.Global[name]; ok {
			dst, takes = &globals, tv
		} else if isVerbosity(a) {
			dst = &globals
		}
		*dst = append(*dst, a)
		if takes && !inline && i+1 < len(args) {
			*dst = append(*dst, args[i+1])
			i++
		}
	}
	if !hasCmd {
		return args
	}
	out := make([]string, 0, len(args)+2)
	out = append(out, globals...)
	out = append(out, cmd)
	out = append(out, cmdFlags...)
	if len(pos) > 0 || dashdash {
		out = append(out, "--")
		out = append(out, pos...)
	}
	if dashdash {
		out = append(out, "--")
		out = append(out, rest...)
	}
	return out
}

// flagName strips the dashes and any "=value" from a flag argument.
func flagName(a string) (name string, inline bool) {
	name = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	if i := strings.IndexByte(name, '='); i >= 0 {
		return name[:i], true
	}
	return name, false
}

// isVerbosity recognises -v, -vv, -vvv: repeated short verbosity flags.
func isVerbosity(a string) bool {
	if len(a) < 2 || a[0] != '-' || a[1] == '-' {
		return false
	}
	return strings.Trim(a[1:], "v") == ""
}

// specFromApp derives the normalizer's spec from the flags the app defines, so the two can
// never disagree.
func specFromApp(app *ucli.App) argSpec {
	spec := argSpec{Global: flagTable(app.Flags), Commands: map[string]map[string]bool{}}
	spec.Global["help"], spec.Global["h"] = false, false
	for _, c := range app.Commands {
		t := flagTable(c.Flags)
		t["help"], t["h"] = false, false
		for _, n := range c.Names() {
			spec.Commands[n] = t
		}
	}
	if _, ok := spec.Commands["help"]; !ok {
		spec.Commands["help"], spec.Commands["h"] = map[string]bool{}, map[string]bool{}
	}
	return spec
}

func flagTable(flags []ucli.Flag) map[string]bool {
	t := map[string]bool{}
	for _, f := range flags {
		takes := true
		if dg, ok := f.(ucli.DocGenerationFlag); ok {
			takes = dg.TakesValue()
		}
		for _, n := range f.Names() {
			t[n] = takes
		}
	}
	return t
}

// completionArgs prepares a shell completion request. A partly typed flag ("deploy --no")
// is an unknown flag to urfave, whose parser then leaves the flag set nil and panics in its
// completion code (urfave/cli#1822). A lone "-" lists every flag of the command instead,
// and the shell keeps those that start with what was typed.
// After "--" every word is a positional, and urfave completes nothing.
func completionArgs(args []string) []string {
	n := len(args)
	if n < 2 || slices.Contains(args, "--") {
		return args
	}
	if partial := args[n-2]; len(partial) > 1 && partial[0] == '-' && partial != "--" {
		out := append([]string(nil), args...)
		out[n-2] = "-"
		return out
	}
	return args
}
