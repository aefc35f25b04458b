package cli

import (
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// target is one cluster a command runs against: each -z URI, or each domain, as in the
// original, where `-d site1,site2 jobs` lists the jobs of both sites one after the other.
type target struct {
	name string
	src  masterSource
}

// splitTargets turns a source into its clusters.
func splitTargets(src masterSource) []target {
	var out []target
	for _, u := range src.URIs {
		one := src
		one.URIs, one.Domains = []string{u}, nil
		out = append(out, target{name: u, src: one})
	}
	for _, d := range src.Domains {
		one := src
		one.URIs, one.Domains = nil, []string{d}
		out = append(out, target{name: d, src: one})
	}
	return out
}

// eachTarget wraps a command's action so it runs once per cluster when several are named.
// Each run is headed, as the original does, by "name ([endpoints])" and a line of dashes
// (on stderr with --json, so stdout stays a sequence of JSON documents), and followed by a
// blank line. A failing cluster is reported and the others still run; the exit code is 1
// if any failed.
func (r *runner) eachTarget(action ucli.ActionFunc) ucli.ActionFunc {
	return func(c *ucli.Context) error {
		src, err := r.source(c)
		if err != nil {
			return action(c) // the action meets the same error and reports it
		}
		targets := splitTargets(src)
		if len(targets) < 2 {
			return action(c)
		}
		head := r.stdout
		if r.json {
			head = r.stderr
		}
		failed := false
		for _, t := range targets {
			cl, err := r.newClient(c, t.src)
			if err != nil {
				return err
			}
			r.client = cl
			var eps []string
			if cl.resolve(c.Context) == nil {
				for _, u := range cl.endpoints {
					eps = append(eps, u.String())
				}
			}
			header := fmt.Sprintf("%s ([%s])", t.name, strings.Join(eps, ", "))
			fmt.Fprintf(head, "%s\n%s\n", header, strings.Repeat("-", len(header)))
			if err := action(c); err != nil {
				failed = true
				r.report(err)
			}
			fmt.Fprintln(head)
			if c.Context.Err() != nil {
				return c.Context.Err()
			}
		}
		r.client = nil
		if failed {
			return errFailed
		}
		return nil
	}
}
