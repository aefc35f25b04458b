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
		return json.Unmarshal(data, &out) // adds the page's jobs to out
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
// the master answers them on several cores while the CLI decodes the previous answers.
const statusRequestsInFlight = 4

// jobStatuses asks for the statuses of ids in requests of at most a page of ids each,
// sorted, so that each request's ids are close together in the master's key space.
func (c *client) jobStatuses(ctx context.Context, ids []model.JobID) (map[model.JobID]model.JobStatus, error) {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	chunks := slices.Collect(slices.Chunk(sorted, c.pageLimit()))
	answers := make([]map[model.JobID]model.JobStatus, len(chunks))
	errs := make([]error, len(chunks))
	sem := make(chan struct{}, statusRequestsInFlight)
	var wg sync.WaitGroup
	for i, chunk := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = c.call(ctx, http.MethodPost, "/jobs/statuses", nil, chunk, &answers[i])
		}()
	}
	wg.Wait()
	out := make(map[model.JobID]model.JobStatus, len(ids))
	for i, a := range answers {
		if errs[i] != nil {
			return nil, errs[i]
		}
		maps.Copy(out, a)
	}
	return out, nil
}
