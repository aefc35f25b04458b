package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/helios-go/helios/model"
	"golang.org/x/sync/errgroup"
)

// envPageSize sets how many entries the CLI asks for per page and how many job ids go in
// one bulk status request. Hidden: it exists for tests and for tuning, users need not set it.
const envPageSize = "HELIOS_CLI_PAGE_SIZE"

// defaultPageSize is the master's largest page: the fewest round trips, and a bulk status
// request of 1,000 ids is about 60 KB, far below the master's body limit.
const defaultPageSize = model.MaxPageLimit

// parsePageSize reads envPageSize: empty is the default, else 1 to model.MaxPageLimit.
func parsePageSize(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > model.MaxPageLimit {
		return 0, fmt.Errorf("invalid %s=%q: want a whole number from 1 to %d", envPageSize, s, model.MaxPageLimit)
	}
	return n, nil
}

func (c *client) pageLimit() int {
	if c.pageSize <= 0 {
		return defaultPageSize
	}
	return c.pageSize
}

// getPages GETs a paged list, following the Helios-Continue header until a page comes
// without it, and hands each page's body to each. A master that does not page answers the
// whole list at once, without the header: that is then the only page.
func (c *client) getPages(ctx context.Context, path string, query url.Values, each func(data []byte) error) error {
	token := ""
	for {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(c.pageLimit()))
		if token != "" {
			q.Set("continue", token)
		}
		code, header, data, err := c.doFull(ctx, http.MethodGet, path, q, nil)
		if err != nil {
			return err
		}
		if code < 200 || code > 299 {
			return decodeError(code, data)
		}
		if err := each(data); err != nil {
			return fmt.Errorf("decode answer of GET %s: %w", path, err)
		}
		if token = header.Get(model.HeaderContinue); token == "" {
			return nil
		}
	}
}

func (c *client) jobs(ctx context.Context, q string) (map[model.JobID]model.Job, error) {
	query := url.Values{}
	if q != "" {
		query.Set("q", q)
	}
	out := map[model.JobID]model.Job{}
	return out, c.getPages(ctx, "/jobs", query, func(data []byte) error {
		return model.UnmarshalJobs(data, out) // adds the page's jobs to out
	})
}

func (c *client) hosts(ctx context.Context, pattern string, selectors []string) ([]string, error) {
	query := url.Values{}
	if pattern != "" {
		query.Set("namePattern", pattern)
	}
	for _, s := range selectors {
		query.Add("selector", s)
	}
	var out []string
	return out, c.getPages(ctx, "/hosts", query, func(data []byte) error {
		var page []string
		if err := json.Unmarshal(data, &page); err != nil {
			return err
		}
		out = append(out, page...)
		return nil
	})
}

// statusRequestsInFlight bounds the bulk status requests one command has open at once:
// the master answers them on several cores while the CLI reads the next page of jobs and
// decodes the answers already in.
const statusRequestsInFlight = 4

// statusParts are the parts of job statuses a command does without: the master then
// neither reads nor sends them (a master that does not know the parameters sends them
// anyway).
type statusParts struct {
	omitJobs         bool // the JobStatus's job and each task status's: tables take the job from the list
	omitTaskStatuses bool // `helios jobs` counts deployments only
}

func (p statusParts) query() url.Values {
	q := url.Values{}
	if p.omitJobs {
		q.Set("omitJobs", "true")
	}
	if p.omitTaskStatuses {
		q.Set("omitTaskStatuses", "true")
	}
	return q
}

// jobsWithStatuses lists the jobs matching q (see jobs) with their statuses, less omit.
// Each page's statuses are asked for as soon as the page is in, while the next page is
// read, so the status requests overlap the listing instead of following it. Pages come in
// id order, so each request's ids are close together in the master's key space. The jobs
// were most of the statuses' bytes (each task status carries its job again).
func (c *client) jobsWithStatuses(ctx context.Context, q string, omit statusParts) (map[model.JobID]model.Job, map[model.JobID]model.JobStatus, error) {
	query := url.Values{}
	if q != "" {
		query.Set("q", q)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(statusRequestsInFlight)
	var (
		mu       sync.Mutex
		statuses = map[model.JobID]model.JobStatus{}
	)
	jobs := map[model.JobID]model.Job{}
	statusQuery := omit.query()
	err := c.getPages(gctx, "/jobs", query, func(data []byte) error {
		page := map[model.JobID]model.Job{}
		if err := model.UnmarshalJobs(data, page); err != nil {
			return err
		}
		maps.Copy(jobs, page)
		// A master that does not page answers everything at once: split it all the same.
		for chunk := range slices.Chunk(slices.Sorted(maps.Keys(page)), c.pageLimit()) {
			g.Go(func() error {
				var answer map[model.JobID]model.JobStatus
				if err := c.call(gctx, http.MethodPost, "/jobs/statuses", statusQuery, chunk, &answer); err != nil {
					return err
				}
				mu.Lock()
				maps.Copy(statuses, answer)
				mu.Unlock()
				return nil
			})
		}
		return nil
	})
	if werr := g.Wait(); werr != nil {
		err = werr // the cause: a failed status request also cancels the listing
	}
	if err != nil {
		return nil, nil, err
	}
	return jobs, statuses, nil
}
