package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	ucli "github.com/urfave/cli/v2"
)

// This file holds the deployment group commands but rolling-update (rollingupdate.go).

// groupArg reads the one group name a command takes.
func groupArg(c *ucli.Context) (string, error) {
	pos, _, _ := positionals(c)
	if len(pos) == 0 {
		return "", usagef("a deployment group name is required")
	}
	if len(pos) > 1 {
		return "", usagef("unexpected arguments after the deployment group name: %v", pos[1:])
	}
	return pos[0], nil
}

// parseGroupSelectors reads the selectors of create-deployment-group, naming the first
// bad one as the original does.
func parseGroupSelectors(exprs []string) ([]model.HostSelector, error) {
	out := make([]model.HostSelector, 0, len(exprs))
	for _, e := range exprs {
		s, err := model.ParseHostSelector(e)
		if err != nil {
			why := strings.TrimPrefix(err.Error(), fmt.Sprintf("invalid host selector %q: ", e))
			return nil, usagef("Bad host selector expression: '%s': %s", e, why)
		}
		out = append(out, s)
	}
	return out, nil
}

// sortedJSON is v on one line with its keys sorted, as the original's client prints.
func sortedJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return compactJSON(v)
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return compactJSON(v)
	}
	return compactJSON(generic)
}

func (r *runner) createGroup(c *ucli.Context) error {
	pos, _, _ := positionals(c)
	if len(pos) == 0 {
		return usagef("a deployment group name is required")
	}
	if len(pos) < 2 {
		return usagef("at least one host selector is required, e.g. role=web or \"tier in (a, b)\"")
	}
	if err := model.ValidateDeploymentGroupName(pos[0]); err != nil {
		return usagef("%v", err)
	}
	sels, err := parseGroupSelectors(pos[1:])
	if err != nil {
		return err
	}
	g := model.DeploymentGroup{Name: pos[0], HostSelectors: sels}
	quiet := c.Bool("quiet")
	if !quiet && !r.json {
		fmt.Fprintf(r.stdout, "Creating deployment group: %s\n", sortedJSON(g))
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	resp, err := cl.createGroup(c.Context, g)
	if err != nil {
		return err
	}
	switch resp.Status {
	case model.StatusCreated, model.StatusNotModified:
		// As the original, the answer is printed even with -q.
		fmt.Fprintln(r.stdout, compactJSON(resp))
		return nil
	}
	switch {
	case r.json:
		fmt.Fprintln(r.stdout, compactJSON(resp))
	case !quiet:
		fmt.Fprintf(r.stderr, "Failed: CreateDeploymentGroupResponse{status=%s}\n", resp.Status)
		for _, e := range resp.Errors {
			fmt.Fprintf(r.stderr, "  %s\n", e)
		}
		if resp.Status == model.StatusConflict {
			fmt.Fprintf(r.stderr, "A deployment group %s already exists with other host selectors: remove it first to change them.\n", g.Name)
		}
	}
	return errFailed
}

func (r *runner) listGroups(c *ucli.Context) error {
	if pos, _, _ := positionals(c); len(pos) > 0 {
		return usagef("list-deployment-groups takes no arguments")
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	names, err := cl.groups(c.Context)
	if err != nil {
		return err
	}
	if r.json {
		return writeJSON(r.stdout, names)
	}
	for _, n := range names {
		fmt.Fprintln(r.stdout, n)
	}
	return nil
}

func (r *runner) inspectGroup(c *ucli.Context) error {
	name, err := groupArg(c)
	if err != nil {
		return err
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	g, err := cl.group(c.Context, name)
	if err != nil {
		return err
	}
	if r.json {
		return writeJSON(r.stdout, g)
	}
	writeGroup(r.stdout, *g)
	return nil
}

func (r *runner) removeGroup(c *ucli.Context) error {
	name, err := groupArg(c)
	if err != nil {
		return err
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	resp, err := cl.removeGroup(c.Context, name)
	if err != nil {
		return err
	}
	if r.json {
		if err := writeJSON(r.stdout, resp); err != nil {
			return err
		}
	} else if resp.Status == model.StatusRemoved {
		fmt.Fprintf(r.stdout, "Deployment-group %s removed\n", name)
	} else {
		fmt.Fprintf(r.stderr, "Failed to remove deployment-group %s, status: %s\n", name, resp.Status)
	}
	if resp.Status != model.StatusRemoved {
		return errFailed
	}
	return nil
}

func (r *runner) groupStatus(c *ucli.Context) error {
	name, err := groupArg(c)
	if err != nil {
		return err
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	st, err := cl.groupStatus(c.Context, name)
	if err != nil {
		return err
	}
	if r.json {
		return writeJSON(r.stdout, st)
	}
	return writeGroupStatus(r.stdout, st, c.Bool("full"))
}

// watchGroup prints the group's status now and at every change the master pushes, until
// interrupted (exit 0) or the group is removed (exit 1).
func (r *runner) watchGroup(c *ucli.Context) error {
	name, err := groupArg(c)
	if err != nil {
		return err
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	full := c.Bool("full")
	if !r.json {
		fmt.Fprint(r.stdout, watchHeader)
	}
	err = cl.watchGroup(c.Context, name, func(st *model.DeploymentGroupStatusResponse) error {
		if r.json {
			_, err := fmt.Fprintln(r.stdout, compactJSON(st))
			return err
		}
		fmt.Fprintln(r.stdout, watchSeparator(time.Now()))
		return writeGroupStatus(r.stdout, st, full)
	})
	if errors.Is(err, context.Canceled) && c.Context.Err() != nil {
		return nil // Ctrl-C is how a watch ends
	}
	return err
}

func (r *runner) stopGroup(c *ucli.Context) error {
	name, err := groupArg(c)
	if err != nil {
		return err
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	code, err := cl.stopGroup(c.Context, name)
	switch {
	case err != nil:
		return err
	case code == http.StatusNoContent || code == http.StatusOK:
		if r.json {
			return writeJSON(r.stdout, model.RollingUpdateResponse{Status: model.StatusOK})
		}
		fmt.Fprintf(r.stdout, "Deployment-group %s stopped\n", name)
		return nil
	case code == http.StatusNotFound:
		return &apiError{Status: model.StatusDeploymentGroupNotFound, Message: fmt.Sprintf("Deployment-group %s not found", name)}
	}
	return &apiError{Status: fmt.Sprintf("HTTP_%d", code), Message: fmt.Sprintf("Failed to stop deployment-group %s. Status: %d", name, code)}
}

func (r *runner) promoteGroup(c *ucli.Context) error {
	name, err := groupArg(c)
	if err != nil {
		return err
	}
	cl, err := r.api(c)
	if err != nil {
		return err
	}
	resp, err := cl.promoteGroup(c.Context, name)
	if err != nil {
		return err
	}
	switch resp.Status {
	case model.StatusOK:
		if r.json {
			return writeJSON(r.stdout, resp)
		}
		fmt.Fprintf(r.stdout, "Deployment-group %s promoted\n", name)
		return nil
	case model.StatusNotPaused:
		return &apiError{Status: resp.Status, Message: fmt.Sprintf("Deployment-group %s is not paused: only a canary rollout waiting for promotion can be promoted", name)}
	case model.StatusDeploymentGroupNotFound:
		return &apiError{Status: resp.Status, Message: fmt.Sprintf("Deployment-group %s not found", name)}
	}
	return &apiError{Status: resp.Status, Message: fmt.Sprintf("Failed to promote deployment-group %s: %s", name, statusText(resp.Status, resp.Message))}
}
