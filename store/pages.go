package store

import (
	"context"
	"encoding/json"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Paged lists read at most one page of values from etcd at a time, so a master's memory
// grows with the page asked for, not with the cluster. Pages are not one snapshot: a key
// created or deleted while a client pages may or may not be listed, but every key that
// exists throughout is listed exactly once, in key order.

// scanBudget bounds the keys one filtered page examines (keys only), so that a filter
// matching nothing answers with an empty page and a place to resume instead of scanning
// the whole cluster in one request.
const scanBudget = 20 * model.MaxPageLimit

// JobEntry is one job of a page: decoded in Job, or, for a JSON query, as stored in JSON.
type JobEntry struct {
	ID   model.JobID
	Job  model.Job
	JSON json.RawMessage
}

// JobsPage is one page of jobs in id order.
type JobsPage struct {
	Jobs []JobEntry
	Last model.JobID // the last id examined: the next page starts after it
	More bool        // ids remain after Last
}

// JobsQuery selects a page of jobs.
type JobsQuery struct {
	Prefix string                 // only ids starting with it (a key prefix: one range)
	After  model.JobID            // start after this id; "" from the first
	Limit  int                    // at most this many jobs (1 to model.MaxPageLimit)
	Match  func(model.JobID) bool // nil: every id; else decided on the id alone, before any value is read
	// JSON leaves the jobs undecoded: each entry's JSON is the stored document, checked to
	// be a JSON object, for a caller that passes it on (decoding costs far more).
	JSON bool
}

// ListJobsPage reads one page of jobs. Without Match it is one range read of Limit keys.
// With Match the ids are scanned without their values, at most scanBudget of them, and
// only the matching jobs are then read; the page may then hold fewer than Limit jobs while
// More is set.
func (s *Store) ListJobsPage(ctx context.Context, q JobsQuery) (JobsPage, error) {
	if q.After != "" {
		if err := ValidName("job id", string(q.After)); err != nil {
			return JobsPage{}, err
		}
	}
	limit := int64(min(max(q.Limit, 1), model.MaxPageLimit))
	start, end := s.pageRange(s.keys.Jobs(), q.Prefix, string(q.After))
	if start >= end {
		return JobsPage{}, nil
	}
	if q.Match == nil {
		resp, err := s.get(ctx, "list-jobs-page", start, clientv3.WithRange(end), clientv3.WithLimit(limit))
		if err != nil {
			return JobsPage{}, err
		}
		page := JobsPage{More: resp.More}
		page.Jobs = make([]JobEntry, 0, len(resp.Kvs))
		for _, kv := range resp.Kvs {
			page.Last = model.JobID(Base(string(kv.Key)))
			s.addJobEntry(&page, q.JSON, string(kv.Key), kv.Value)
		}
		return page, nil
	}
	var (
		page    JobsPage
		keys    []string
		scanned int
	)
	for len(keys) < int(limit) && scanned < scanBudget {
		resp, err := s.get(ctx, "list-jobs-page", start, clientv3.WithRange(end), clientv3.WithKeysOnly(),
			clientv3.WithLimit(int64(model.MaxPageLimit)))
		if err != nil {
			return JobsPage{}, err
		}
		page.More = resp.More
		for i, kv := range resp.Kvs {
			scanned++
			page.Last = model.JobID(Base(string(kv.Key)))
			if q.Match(page.Last) {
				keys = append(keys, string(kv.Key))
			}
			if len(keys) == int(limit) {
				page.More = page.More || i < len(resp.Kvs)-1
				break
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	vals, err := s.getMany(ctx, "list-jobs-page", keys)
	if err != nil {
		return JobsPage{}, err
	}
	for _, k := range keys {
		b, ok := vals[k]
		if !ok {
			continue // removed since the scan
		}
		s.addJobEntry(&page, q.JSON, k, b)
	}
	return page, nil
}

// addJobEntry appends the job stored at key to the page, decoded or (asJSON) as stored; a
// value that does not decode (is not a JSON object) is logged and left out.
func (s *Store) addJobEntry(page *JobsPage, asJSON bool, key string, val []byte) {
	e := JobEntry{ID: model.JobID(Base(key))}
	var err error
	if asJSON {
		err = checkObject(key, val)
		e.JSON = val
	} else {
		err = decode(key, val, &e.Job)
	}
	if err != nil {
		s.skipBad(err)
		return
	}
	page.Jobs = append(page.Jobs, e)
}

// pageRange is the key range of a page under dir: names starting with prefix, after the
// name after (exclusive; "" from the first).
func (s *Store) pageRange(dir, prefix, after string) (start, end string) {
	start, end = dir+prefix, clientv3.GetPrefixRangeEnd(dir+prefix)
	if after != "" && dir+after+"\x00" > start {
		start = dir + after + "\x00"
	}
	return start, end
}

// HostsPage is one page of registered host names, in order.
type HostsPage struct {
	Hosts []string
	Last  string // the last host examined: the next page starts after it
	More  bool   // hosts may remain after Last
}

// ListHostsPage reads up to limit registered hosts after the host after ("" from the
// first) whose names match (nil: all). A host's keys all live under config/hosts/<h>/ and
// its "id" sorts before its "jobs/" and "ports/", so the scan reads keys only, takes each
// host at its id key, and jumps past the rest of a host's keys when a read ends in them.
func (s *Store) ListHostsPage(ctx context.Context, after string, limit int, match func(string) bool) (HostsPage, error) {
	if after != "" {
		if err := ValidName("host", after); err != nil {
			return HostsPage{}, err
		}
	}
	limit = min(max(limit, 1), model.MaxPageLimit)
	dir := s.keys.Hosts()
	start, end := dir, clientv3.GetPrefixRangeEnd(dir)
	if after != "" {
		start = clientv3.GetPrefixRangeEnd(s.keys.Host(after))
	}
	var page HostsPage
	for scanned := 0; len(page.Hosts) < limit && scanned < scanBudget; {
		resp, err := s.get(ctx, "list-hosts-page", start, clientv3.WithRange(end), clientv3.WithKeysOnly(),
			clientv3.WithLimit(int64(model.MaxPageLimit)))
		if err != nil {
			return HostsPage{}, err
		}
		if len(resp.Kvs) == 0 {
			page.More = false
			break
		}
		page.More = resp.More
		last := ""
		for i, kv := range resp.Kvs {
			scanned++
			h, rest, ok := splitUnder(dir, string(kv.Key))
			if !ok {
				continue
			}
			last = h
			if rest != "id" {
				continue
			}
			page.Last = h
			if match == nil || match(h) {
				page.Hosts = append(page.Hosts, h)
			}
			if len(page.Hosts) == limit {
				page.More = page.More || i < len(resp.Kvs)-1
				break
			}
		}
		if len(page.Hosts) == limit || !resp.More || last == "" {
			break
		}
		// Skip what is left of the last host's keys: its id, if any, came first.
		page.Last = last
		start = clientv3.GetPrefixRangeEnd(s.keys.Host(last))
	}
	return page, nil
}
