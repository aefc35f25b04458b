package store

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// hostsPerRead is how many hosts' deployment and status ranges share one read: two range
// operations per host, within etcd's limit of operations per transaction.
const hostsPerRead = maxTxnOps / 2

// JobStatuses is JobStatus for many jobs, in a number of etcd reads bounded by the shape of
// the request rather than one per job: the ids are sorted, and what lies between the
// smallest and the largest is read as key ranges, all at the revision of the first read.
//
//   - one read: the reverse index over the ids' span (keys only) and the number of jobs in
//     the span;
//   - the jobs: one range when the span holds few other jobs, else single gets, maxTxnOps
//     to a read;
//   - per host that has any of the jobs: one range over its deployments and one over its
//     statuses, limited to the span of the ids on that host, hostsPerRead hosts to a read.
//
// Unknown ids are left out of the answer. Callers that page through sorted ids (the CLI
// does) make every span tight.
func (s *Store) JobStatuses(ctx context.Context, ids []model.JobID) (map[model.JobID]*model.JobStatus, error) {
	raw, err := s.JobStatusesJSON(ctx, ids, JobStatusParts{})
	if err != nil {
		return nil, err
	}
	out := make(map[model.JobID]*model.JobStatus, len(raw))
	for id, r := range raw {
		st := &model.JobStatus{Deployments: map[string]model.Deployment{}, TaskStatuses: map[string]model.TaskStatus{}}
		var job model.Job
		if err := decode(s.keys.Job(id), r.Job, &job); err != nil {
			s.skipBad(err)
			continue
		}
		st.Job = &job
		for h, b := range r.Deployments {
			var d model.Deployment
			if err := decode(s.keys.Deployment(h, id), b, &d); err != nil {
				s.skipBad(err)
				continue
			}
			st.Deployments[h] = d
		}
		for h, b := range r.TaskStatuses {
			var ts model.TaskStatus
			if err := decode(s.keys.TaskStatus(h, id), b, &ts); err != nil {
				s.skipBad(err)
				continue
			}
			st.TaskStatuses[h] = ts
		}
		out[id] = st
	}
	return out, nil
}

// JobStatusJSON is a JobStatus as etcd holds its parts: each value is the stored JSON
// document (of a model.Job, model.Deployment or model.TaskStatus), not decoded, so that a
// master can pass it on without decoding and encoding it. Job is checked to be a JSON
// object; the deployments and task statuses are not: a caller that passes them on checks
// what it passes, which may be less (a task status without its job is a tenth of it).
type JobStatusJSON struct {
	Job          json.RawMessage
	Deployments  map[string]json.RawMessage // by host
	TaskStatuses map[string]json.RawMessage // by host
}

// JobStatusParts names the parts of the answer a caller does without, so they are not read.
type JobStatusParts struct {
	OmitJobs         bool // the jobs are read as keys only (an unknown id is still left out); Job is nil
	OmitTaskStatuses bool // the task statuses are not read; TaskStatuses is nil
}

// JobStatusesJSON is JobStatuses without decoding the values: the same reads, the stored
// JSON, less what omit names. A job that is not a JSON object is skipped (and logged), as
// JobStatuses skips one that does not decode.
func (s *Store) JobStatusesJSON(ctx context.Context, ids []model.JobID, omit JobStatusParts) (map[model.JobID]*JobStatusJSON, error) {
	for _, id := range ids {
		if err := ValidName("job id", string(id)); err != nil {
			return nil, err
		}
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(map[model.JobID]*JobStatusJSON, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	lo, hi := ids[0], ids[len(ids)-1]
	jobsEnd := s.keys.Job(hi) + "\x00"
	resps, rev, err := s.read(ctx, "job-statuses",
		clientv3.OpGet(s.keys.JobHosts(lo), clientv3.WithRange(clientv3.GetPrefixRangeEnd(s.keys.JobHosts(hi))), clientv3.WithKeysOnly()),
		clientv3.OpGet(s.keys.Job(lo), clientv3.WithRange(jobsEnd), clientv3.WithCountOnly()))
	if err != nil {
		return nil, err
	}
	if err := s.readJobsInto(ctx, out, ids, resps[1].Count, rev, omit); err != nil {
		return nil, err
	}
	// Which wanted jobs each host has, from the reverse index.
	onHost := map[string][]model.JobID{}
	indexPrefix := s.keys.root + "/config/job-hosts/"
	for _, kv := range resps[0].Kvs {
		id, host, ok := splitUnder(indexPrefix, string(kv.Key))
		if !ok || out[model.JobID(id)] == nil || host == "" {
			continue
		}
		onHost[host] = append(onHost[host], model.JobID(id))
	}
	return out, s.readHostsInto(ctx, out, onHost, rev, omit)
}

// readJobsInto puts a JobStatus for every job of ids (sorted, distinct) found into out,
// with its job unless omitted. inSpan is how many jobs lie between the first and the last id:
// when the ids are most of them, one range read is cheaper than naming every key.
func (s *Store) readJobsInto(ctx context.Context, out map[model.JobID]*JobStatusJSON, ids []model.JobID, inSpan, rev int64, omit JobStatusParts) error {
	opts := []clientv3.OpOption{clientv3.WithRev(rev)}
	if omit.OmitJobs {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	add := func(key string, val []byte) {
		id := model.JobID(Base(key))
		if _, want := slices.BinarySearch(ids, id); !want {
			return
		}
		st := &JobStatusJSON{Deployments: map[string]json.RawMessage{}}
		if !omit.OmitTaskStatuses {
			st.TaskStatuses = map[string]json.RawMessage{}
		}
		if !omit.OmitJobs {
			if err := checkObject(key, val); err != nil {
				s.skipBad(err)
				return
			}
			st.Job = val
		}
		out[id] = st
	}
	if inSpan <= 2*int64(len(ids)) {
		lo, hi := ids[0], ids[len(ids)-1]
		resp, err := s.get(ctx, "job-statuses", s.keys.Job(lo), append(opts, clientv3.WithRange(s.keys.Job(hi)+"\x00"))...)
		if err != nil {
			return err
		}
		for _, kv := range resp.Kvs {
			add(string(kv.Key), kv.Value)
		}
		return nil
	}
	for start := 0; start < len(ids); start += maxTxnOps {
		chunk := ids[start:min(start+maxTxnOps, len(ids))]
		gets := make([]clientv3.Op, len(chunk))
		for i, id := range chunk {
			gets[i] = clientv3.OpGet(s.keys.Job(id), opts...)
		}
		resps, _, err := s.read(ctx, "job-statuses", gets...)
		if err != nil {
			return err
		}
		for _, r := range resps {
			for _, kv := range r.Kvs {
				add(string(kv.Key), kv.Value)
			}
		}
	}
	return nil
}

// readHostsInto fills in the deployments and task statuses of the jobs each host has
// (onHost: host → the ids of wanted jobs, in ascending order).
func (s *Store) readHostsInto(ctx context.Context, out map[model.JobID]*JobStatusJSON, onHost map[string][]model.JobID, rev int64, omit JobStatusParts) error {
	hosts := make([]string, 0, len(onHost))
	for h := range onHost {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for start := 0; start < len(hosts); start += hostsPerRead {
		chunk := hosts[start:min(start+hostsPerRead, len(hosts))]
		ops := make([]clientv3.Op, 0, 2*len(chunk))
		for _, h := range chunk {
			ids := onHost[h]
			lo, hi := ids[0], ids[len(ids)-1]
			ops = append(ops, clientv3.OpGet(s.keys.Deployment(h, lo), clientv3.WithRange(s.keys.Deployment(h, hi)+"\x00"), clientv3.WithRev(rev)))
			if !omit.OmitTaskStatuses {
				ops = append(ops, clientv3.OpGet(s.keys.TaskStatus(h, lo), clientv3.WithRange(s.keys.TaskStatus(h, hi)+"\x00"), clientv3.WithRev(rev)))
			}
		}
		perHost := len(ops) / len(chunk)
		resps, _, err := s.read(ctx, "job-statuses", ops...)
		if err != nil {
			return err
		}
		for i, h := range chunk {
			for _, kv := range resps[perHost*i].Kvs {
				st := out[model.JobID(Base(string(kv.Key)))]
				if st == nil {
					continue // deployed here, but not asked for
				}
				st.Deployments[h] = kv.Value
			}
			if omit.OmitTaskStatuses {
				continue
			}
			for _, kv := range resps[2*i+1].Kvs {
				st := out[model.JobID(Base(string(kv.Key)))]
				if st == nil {
					continue
				}
				st.TaskStatuses[h] = kv.Value
			}
		}
	}
	return nil
}
