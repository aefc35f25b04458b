package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/helios-go/helios/model"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrCompacted says a revision asked for is older than etcd keeps: what happened since
// cannot be replayed.
var ErrCompacted = errors.New("revision compacted")

// Revision is the store's current etcd revision: a watch from Revision()+1 misses nothing
// written after this call returns.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	resp, err := s.get(ctx, "revision", s.keys.ClusterID(), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}

// CheckRevision fails with ErrCompacted when the changes from rev on are no longer kept.
func (s *Store) CheckRevision(ctx context.Context, rev int64) error {
	_, err := s.get(ctx, "check-revision", s.keys.ClusterID(), clientv3.WithCountOnly(), clientv3.WithRev(rev))
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("revision %d: %w", rev, ErrCompacted)
	case errors.Is(err, rpctypes.ErrFutureRev):
		return nil // nothing written yet: a watch from rev waits for it
	}
	return err
}

// WatchChanges watches every key under the root from revision rev on, and calls fn with
// each batch of the changes the event stream knows (see ClassifyKey), in revision order,
// with the revision the watch has reached (the last one of the batch, which may hold only
// changes of other keys). It returns ctx.Err() once ctx is done, an error wrapping
// ErrCompacted when rev is no longer kept, and any other failure as is: the caller
// resumes from the revision it reached plus one.
func (s *Store) WatchChanges(ctx context.Context, rev int64, fn func(changes []model.KeyChange, reached int64)) error {
	wctx, cancel := context.WithCancel(ownWatchStream(clientv3.WithRequireLeader(ctx)))
	defer cancel()
	for wr := range s.cli.Watch(wctx, s.keys.Root(), clientv3.WithPrefix(), clientv3.WithRev(rev), clientv3.WithPrevKV()) {
		if wr.CompactRevision != 0 {
			s.metrics.failed("watch")
			return fmt.Errorf("watch from revision %d: compacted at %d: %w", rev, wr.CompactRevision, ErrCompacted)
		}
		if err := wr.Err(); err != nil {
			s.metrics.failed("watch")
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("watch %s: %w", s.keys.Root(), err)
		}
		if wr.Canceled {
			return fmt.Errorf("watch %s: canceled: %s", s.keys.Root(), wr.CancelReason)
		}
		if len(wr.Events) == 0 {
			continue
		}
		var out []model.KeyChange
		for _, e := range wr.Events {
			c, ok := s.keys.ClassifyKey(string(e.Kv.Key))
			if !ok {
				continue
			}
			c.Revision = e.Kv.ModRevision
			if e.Type == mvccpb.DELETE {
				c.Delete = true
			} else {
				c.Value = e.Kv.Value
			}
			if e.PrevKv != nil {
				c.Prev = e.PrevKv.Value
				if c.Prev == nil {
					c.Prev = []byte{} // existed, empty: not a creation
				}
			}
			out = append(out, c)
		}
		fn(out, wr.Events[len(wr.Events)-1].Kv.ModRevision)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errWatchEnded
}

// ClassifyKey tells which kind of key the event stream reports key as, with the names in
// it (Kind, Host, Job, Name set); ok is false for every other key (history, indexes,
// port reservations, labels, elections...).
func (k Keys) ClassifyKey(key string) (c model.KeyChange, ok bool) {
	one := func(prefix string) (string, bool) { // the single segment below prefix
		rest, found := strings.CutPrefix(key, prefix)
		return rest, found && rest != "" && !strings.Contains(rest, "/")
	}
	if id, ok := one(k.Jobs()); ok {
		return model.KeyChange{Kind: model.KeyJob, Job: model.JobID(id)}, true
	}
	if name, ok := one(k.DeploymentGroups()); ok {
		return model.KeyChange{Kind: model.KeyGroup, Name: name}, true
	}
	if name, ok := one(k.DeploymentGroupStatuses()); ok {
		return model.KeyChange{Kind: model.KeyGroupStatus, Name: name}, true
	}
	if name, ok := one(k.Masters()); ok {
		return model.KeyChange{Kind: model.KeyMaster, Name: name}, true
	}
	if host, rest, ok := splitUnder(k.Hosts(), key); ok {
		if rest == "id" {
			return model.KeyChange{Kind: model.KeyHostID, Host: host}, true
		}
		if id, ok := strings.CutPrefix(rest, "jobs/"); ok && id != "" && !strings.Contains(id, "/") {
			return model.KeyChange{Kind: model.KeyDeployment, Host: host, Job: model.JobID(id)}, true
		}
		return model.KeyChange{}, false
	}
	if host, rest, ok := splitUnder(k.HostStatuses(), key); ok {
		if rest == "up" {
			return model.KeyChange{Kind: model.KeyHostUp, Host: host}, true
		}
		if rest == "restore-suspected" {
			return model.KeyChange{Kind: model.KeyRestoreSuspected, Host: host}, true
		}
		if id, ok := strings.CutPrefix(rest, "jobs/"); ok && id != "" && !strings.Contains(id, "/") {
			return model.KeyChange{Kind: model.KeyTaskStatus, Host: host, Job: model.JobID(id)}, true
		}
	}
	return model.KeyChange{}, false
}
