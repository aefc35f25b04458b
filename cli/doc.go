// Package cli is the `helios` command line client: the command tree (urfave/cli/v2), the
// argument normalizer that lets flags follow positionals, the parsers of job options, the
// HTTP client that finds and retries masters, and the text tables and JSON it prints.
package cli
