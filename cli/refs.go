package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/helios-go/helios/model"
)

// pickJob chooses the job a user's reference means among the jobs the master returned for
// it: the exact id; else the one job whose name or name:version is the reference; else the
// one job whose id starts with it (a hash prefix); else the one job containing it, as the
// original matched. More than one candidate at the first level that has any is ambiguous.
func pickJob(ref string, jobs map[model.JobID]model.Job) (model.JobID, error) {
	if _, ok := jobs[model.JobID(ref)]; ok {
		return model.JobID(ref), nil
	}
	levels := []func(id string) bool{
		func(id string) bool { return strings.HasPrefix(id, ref+":") },
		func(id string) bool { return strings.HasPrefix(id, ref) },
		func(id string) bool { return strings.Contains(id, ref) },
	}
	for _, match := range levels {
		var found []string
		for id := range jobs {
			if match(string(id)) {
				found = append(found, string(id))
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return model.JobID(found[0]), nil
		}
		sort.Strings(found)
		return "", &apiError{Status: model.StatusAmbiguousJobRef, Message: fmt.Sprintf("Ambiguous job reference: %s", ref), Errors: found}
	}
	return "", &apiError{Status: model.StatusJobNotFound, Message: fmt.Sprintf("Unknown job: %s", ref)}
}

// resolveJob finds the one job a reference names.
func (c *client) resolveJob(ctx context.Context, ref string) (model.JobID, error) {
	if ref == "" {
		return "", usagef("a job reference (name, name:version or id) is required")
	}
	jobs, err := c.jobs(ctx, ref)
	if err != nil {
		return "", err
	}
	return pickJob(ref, jobs)
}

// pickHost chooses the host a user typed: the exact name, else the one host it prefixes.
// ok is false when nothing matches (the name is then passed on as typed, so the master
// answers HOST_NOT_FOUND); an ambiguous prefix is an error.
func pickHost(ref string, hosts []string) (string, bool, error) {
	var found []string
	for _, h := range hosts {
		if h == ref {
			return h, true, nil
		}
		if strings.HasPrefix(h, ref) {
			found = append(found, h)
		}
	}
	switch len(found) {
	case 0:
		return ref, false, nil
	case 1:
		return found[0], true, nil
	}
	sort.Strings(found)
	return "", false, fmt.Errorf("ambiguous host reference %s: matches %s", ref, strings.Join(found, ", "))
}

// resolveHosts maps each typed host to a registered host name.
func (c *client) resolveHosts(ctx context.Context, refs []string) ([]string, error) {
	all, err := c.hosts(ctx, "", nil)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(refs))
	for _, ref := range refs {
		h, _, err := pickHost(ref, all)
		if err != nil {
			return nil, &apiError{Status: model.StatusHostNotFound, Message: err.Error()}
		}
		out = append(out, h)
	}
	return out, nil
}
