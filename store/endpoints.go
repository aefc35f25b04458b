package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrNotDrained says withdrawn endpoints may still be served by DNS: no controller leader
// was there to mirror the withdrawal, or it did not within the time given. Callers log it
// and go on: a stop must not wait for the masters.
var ErrNotDrained = errors.New("DNS records not confirmed gone")

// PutEndpoints publishes one task's endpoints under the host's own prefix, bound to lease
// (the agent's), so they vanish with the agent.
func (s *Store) PutEndpoints(ctx context.Context, host string, je model.JobEndpoints, lease LeaseID) error {
	if err := ValidName("host", host); err != nil {
		return err
	}
	if err := ValidName("job id", string(je.JobID)); err != nil {
		return err
	}
	val, err := encode(je)
	if err != nil {
		return err
	}
	return s.put(ctx, "put-endpoints", s.keys.Endpoint(host, je.JobID), val, clientv3.WithLease(clientv3.LeaseID(lease)))
}

// DeleteEndpoints withdraws one task's endpoints.
func (s *Store) DeleteEndpoints(ctx context.Context, host string, id model.JobID) error {
	return s.call(ctx, "delete-endpoints", func(ctx context.Context) error {
		_, err := s.cli.Delete(ctx, s.keys.Endpoint(host, id))
		return err
	})
}

// WaitRecordsGone returns once none of keys exists, or with ctx's error. It reads them,
// then watches from that revision, so a deletion between the two is not missed.
func (s *Store) WaitRecordsGone(ctx context.Context, keys []string) error {
	left := map[string]bool{}
	var rev int64
	for start := 0; start < len(keys); start += maxTxnOps {
		gets := []clientv3.Op{}
		for _, k := range keys[start:min(start+maxTxnOps, len(keys))] {
			gets = append(gets, clientv3.OpGet(k, clientv3.WithKeysOnly()))
		}
		resps, r, err := s.read(ctx, "records-gone", gets...)
		if err != nil {
			return err
		}
		rev = max(rev, r)
		for _, resp := range resps {
			for _, kv := range resp.Kvs {
				left[string(kv.Key)] = true
			}
		}
	}
	if len(left) == 0 {
		return nil
	}
	// All the keys share the SkyDNS path; watch each one (few per task), on one stream.
	wctx, cancel := context.WithCancel(ownWatchStream(clientv3.WithRequireLeader(ctx)))
	defer cancel()
	gone := make(chan string, len(left))
	for k := range left {
		go func() {
			for resp := range s.cli.Watch(wctx, k, clientv3.WithRev(rev+1), clientv3.WithFilterPut()) {
				if resp.Err() != nil {
					return
				}
				if len(resp.Events) > 0 {
					gone <- k
					return
				}
			}
		}()
	}
	for len(left) > 0 {
		select {
		case k := <-gone:
			delete(left, k)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// EndpointRegistrar publishes an agent's endpoints (agent.Registrar): under the host's
// prefix, bound to the agent's lease, which Attach hands over each time KeepLeased takes a
// new one; what was published is written again then, as the old lease took it with it.
type EndpointRegistrar struct {
	s    *Store
	host string
	path string // SkyDNS path, to know which records to wait for

	mu        sync.Mutex
	lease     LeaseID
	haveLease bool
	published map[model.JobID]model.JobEndpoints
}

// NewEndpointRegistrar returns the registrar of host's agent; skydnsPath is where the
// leader mirrors the records (--skydns-path).
func (s *Store) NewEndpointRegistrar(host, skydnsPath string) *EndpointRegistrar {
	return &EndpointRegistrar{s: s, host: host, path: SkyDNSPath(skydnsPath), published: map[model.JobID]model.JobEndpoints{}}
}

// Attach writes every published task's endpoints bound to lease, the agent's new one.
func (r *EndpointRegistrar) Attach(ctx context.Context, lease LeaseID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lease, r.haveLease = lease, true
	for _, je := range r.published {
		if err := r.s.PutEndpoints(ctx, r.host, je, lease); err != nil {
			return err
		}
	}
	return nil
}

// Publish makes the task's endpoints discoverable (replacing what it had). Before the
// agent has a lease they are only kept, and Attach writes them.
func (r *EndpointRegistrar) Publish(ctx context.Context, je model.JobEndpoints) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.haveLease {
		if err := r.s.PutEndpoints(ctx, r.host, je, r.lease); err != nil {
			return err // not marked published: the agent's plan tries again
		}
	}
	r.published[je.JobID] = je
	return nil
}

// Published tells, per job, the container whose endpoints are published.
func (r *EndpointRegistrar) Published() map[model.JobID]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return model.PublishedContainers(r.published)
}

// Withdraw deletes the task's endpoints. With drain > 0 it then waits, at most drain, until
// the leader has removed their DNS records; ErrNotDrained (wrapped) when it could not tell
// (no leader) or they were still there when drain ran out.
func (r *EndpointRegistrar) Withdraw(ctx context.Context, id model.JobID, drain time.Duration) error {
	r.mu.Lock()
	je, ok := r.published[id]
	err := r.s.DeleteEndpoints(ctx, r.host, id)
	if err == nil {
		delete(r.published, id)
	}
	r.mu.Unlock()
	if err != nil || !ok || drain <= 0 || len(je.Endpoints) == 0 {
		return err
	}
	if _, err := r.s.Leader(ctx); errors.Is(err, ErrNotFound) {
		return fmt.Errorf("no controller leader to remove the records: %w", ErrNotDrained)
	}
	keys := make([]string, 0, len(je.Endpoints))
	for _, ep := range je.Endpoints {
		keys = append(keys, SkyDNSRecordKey(r.path, r.host, ep))
	}
	wctx, cancel := context.WithTimeout(ctx, drain)
	defer cancel()
	if err := r.s.WaitRecordsGone(wctx, keys); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("records still there after %s: %w", drain, ErrNotDrained)
	}
	return nil
}
