package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// validJobID accepts what can be one key segment and has all three parts of an id.
func validJobID(id model.JobID) error {
	if err := ValidName("job id", string(id)); err != nil {
		return err
	}
	if !id.IsFull() {
		return fmt.Errorf("job id %q is not name:version:hash: %w", id, ErrInvalidName)
	}
	return nil
}

// CreateJob stores a new job. It fails with ErrExists when the id is taken: the job key is
// written only if it has never existed (CreateRevision == 0), so concurrent creators of
// one id cannot both win.
func (s *Store) CreateJob(ctx context.Context, job model.Job) error {
	if err := validJobID(job.ID); err != nil {
		return err
	}
	val, err := encode(job)
	if err != nil {
		return err
	}
	key := s.keys.Job(job.ID)
	resp, err := s.txn(ctx, "create-job",
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)},
		[]clientv3.Op{clientv3.OpPut(key, val)})
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		return fmt.Errorf("job %s: %w", job.ID, ErrExists)
	}
	return nil
}

// GetJob reads one job; ErrJobNotFound if there is none.
func (s *Store) GetJob(ctx context.Context, id model.JobID) (*model.Job, error) {
	if err := ValidName("job id", string(id)); err != nil {
		return nil, err
	}
	resp, err := s.get(ctx, "get-job", s.keys.Job(id))
	if err != nil {
		return nil, err
	}
	job, _, err := s.jobFrom(resp, id)
	return job, err
}

// jobFrom decodes the job of a read of its key, with the key's ModRevision for guards.
func (s *Store) jobFrom(resp *clientv3.GetResponse, id model.JobID) (*model.Job, int64, error) {
	if len(resp.Kvs) == 0 {
		return nil, 0, fmt.Errorf("job %s: %w", id, ErrJobNotFound)
	}
	kv := resp.Kvs[0]
	var job model.Job
	if err := decode(string(kv.Key), kv.Value, &job); err != nil {
		return nil, 0, err
	}
	return &job, kv.ModRevision, nil
}

// ListJobs reads every job, by id.
func (s *Store) ListJobs(ctx context.Context) (map[model.JobID]model.Job, error) {
	resp, err := s.get(ctx, "list-jobs", s.keys.Jobs(), clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	jobs := make(map[model.JobID]model.Job, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var job model.Job
		if err := decode(string(kv.Key), kv.Value, &job); err != nil {
			s.skipBad(err)
			continue
		}
		jobs[model.JobID(Base(string(kv.Key)))] = job
	}
	return jobs, nil
}

// RemoveJob deletes a job and its history (both layouts: the legacy prefix, and the job's
// range under every registered host). It refuses with ErrForbidden when token is not the
// job's, and with ErrStillInUse while any host has it deployed. Every transaction is guarded
// by the job key's ModRevision and by the job's reverse index being empty, so a deploy that
// races the removal makes the removal fail rather than leave a deployment of a missing job.
// The job key goes with the last one; history ranges that do not fit it go first, in chunks
// (losing history early is harmless).
func (s *Store) RemoveJob(ctx context.Context, id model.JobID, token string) error {
	if err := ValidName("job id", string(id)); err != nil {
		return err
	}
	jobKey, hostsPrefix := s.keys.Job(id), s.keys.JobHosts(id)
	return s.guarded(ctx, "remove-job", nil, func(ctx context.Context) (*change, error) {
		resps, _, err := s.read(ctx, "remove-job",
			clientv3.OpGet(jobKey),
			clientv3.OpGet(hostsPrefix, clientv3.WithPrefix(), clientv3.WithKeysOnly()),
			clientv3.OpGet(s.keys.Hosts(), clientv3.WithPrefix(), clientv3.WithKeysOnly()))
		if err != nil {
			return nil, err
		}
		job, rev, err := s.jobFrom(resps[0], id)
		if err != nil {
			return nil, err
		}
		if !model.TokenMatches(job.Token, token) {
			return nil, fmt.Errorf("remove job %s: %w", id, ErrForbidden)
		}
		if hosts := resps[1].Kvs; len(hosts) > 0 {
			names := make([]string, len(hosts))
			for i, kv := range hosts {
				names[i] = Base(string(kv.Key))
			}
			sort.Strings(names)
			return nil, fmt.Errorf("job %s is deployed on %s: %w", id, strings.Join(names, ", "), ErrStillInUse)
		}
		cmps := []clientv3.Cmp{
			clientv3.Compare(clientv3.ModRevision(jobKey), "=", rev),
			clientv3.Compare(clientv3.CreateRevision(hostsPrefix), "=", 0).WithPrefix(),
		}
		history := []clientv3.Op{clientv3.OpDelete(s.keys.LegacyHistory(id), clientv3.WithPrefix())}
		for _, kv := range resps[2].Kvs {
			if h, rest, ok := splitUnder(s.keys.Hosts(), string(kv.Key)); ok && rest == "id" {
				history = append(history, clientv3.OpDelete(s.keys.HostHistory(id, h), clientv3.WithPrefix()))
			}
		}
		for len(history) > maxTxnOps-1 {
			chunk := &change{cmps: cmps, ops: history[:maxTxnOps]}
			if ok, err := s.commit(ctx, "remove-job", nil, chunk); err != nil || !ok {
				return chunk, err // !ok: its compares fail again in guarded, which reads afresh
			}
			history = history[maxTxnOps:]
		}
		return &change{cmps: cmps, ops: append(history, clientv3.OpDelete(jobKey))}, nil
	})
}
