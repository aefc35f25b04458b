package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// MarkHostDown records, as the controller's leader, that host's agent was last seen at
// since. It writes only while the host is registered, has no up key and no record yet, so
// a late or repeated call never moves the time forward. It reports whether it wrote.
func (s *Store) MarkHostDown(ctx context.Context, l *Leadership, host string, since time.Time) (bool, error) {
	if err := ValidName("host", host); err != nil {
		return false, err
	}
	attempts := 0
	err := s.guarded(ctx, "mark-host-down", l, func(context.Context) (*change, error) {
		if attempts++; attempts > 1 {
			return nil, nil // the compares failed: the host is up or already recorded
		}
		return &change{
			cmps: []clientv3.Cmp{
				clientv3.Compare(clientv3.CreateRevision(s.keys.HostID(host)), ">", 0),
				clientv3.Compare(clientv3.CreateRevision(s.keys.Up(host)), "=", 0),
				clientv3.Compare(clientv3.CreateRevision(s.keys.DownSince(host)), "=", 0),
			},
			ops: []clientv3.Op{clientv3.OpPut(s.keys.DownSince(host), strconv.FormatInt(since.UnixMilli(), 10))},
		}, nil
	})
	if err != nil {
		return false, err
	}
	return attempts == 1, nil
}

// HostsWithoutRecord lists registered hosts that are neither up nor recorded as down: the
// hosts that went down while no leader was watching.
func (s *Store) HostsWithoutRecord(ctx context.Context) ([]string, error) {
	resps, _, err := s.read(ctx, "hosts-without-record",
		clientv3.OpGet(s.keys.Hosts(), clientv3.WithPrefix(), clientv3.WithKeysOnly()),
		clientv3.OpGet(s.keys.HostStatuses(), clientv3.WithPrefix(), clientv3.WithKeysOnly()))
	if err != nil {
		return nil, err
	}
	registered := map[string]bool{}
	for _, kv := range resps[0].Kvs {
		if h, rest, ok := splitUnder(s.keys.Hosts(), string(kv.Key)); ok && rest == "id" {
			registered[h] = true
		}
	}
	for _, kv := range resps[1].Kvs {
		if h, rest, ok := splitUnder(s.keys.HostStatuses(), string(kv.Key)); ok && (rest == "up" || rest == "down-since") {
			delete(registered, h)
		}
	}
	out := make([]string, 0, len(registered))
	for h := range registered {
		out = append(out, h)
	}
	return out, nil
}

// WatchHostsGoingDown calls fn with the name of each host whose up key is deleted (its
// agent's lease expired or was revoked), from now until ctx ends. Only deletions are
// delivered by etcd (WithFilterPut), so the many status writes under the same prefix cost
// the watcher nothing. After a watch failure it resumes where it stopped; deletions lost
// to compaction are caught by the caller's periodic HostsWithoutRecord sweep.
func (s *Store) WatchHostsGoingDown(ctx context.Context, fn func(host string)) error {
	prefix := s.keys.HostStatuses()
	var rev int64
	for ctx.Err() == nil {
		opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithFilterPut()}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev+1))
		}
		wctx, stopWatch := context.WithCancel(ownWatchStream(clientv3.WithRequireLeader(ctx)))
		wch := s.cli.Watch(wctx, prefix, opts...)
		for resp := range wch {
			if resp.Err() != nil {
				s.metrics.observe("watch-hosts-down", 0, resp.Err())
				if resp.CompactRevision != 0 {
					rev = 0 // start from now; the sweep covers the gap
				}
				break
			}
			for _, ev := range resp.Events {
				rev = ev.Kv.ModRevision
				if h, rest, ok := splitUnder(prefix, string(ev.Kv.Key)); ok && rest == "up" {
					fn(h)
				}
			}
		}
		stopWatch() // its stream goes with it
		if !sleep(ctx, watchBackoffMin) {
			break
		}
	}
	return ctx.Err()
}

// HostsDownSince lists, for every host the controller recorded as down, when it went down.
func (s *Store) HostsDownSince(ctx context.Context) (map[string]time.Time, error) {
	resp, err := s.get(ctx, "hosts-down-since", s.keys.HostStatuses(), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, kv := range resp.Kvs {
		if _, rest, ok := splitUnder(s.keys.HostStatuses(), string(kv.Key)); ok && rest == "down-since" {
			keys = append(keys, string(kv.Key))
		}
	}
	vals, err := s.getMany(ctx, "hosts-down-since", keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(vals))
	for k, v := range vals {
		ms, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			s.skipBad(fmt.Errorf("%s: %q is not a time in ms: %w", k, v, err))
			continue
		}
		h, _, _ := splitUnder(s.keys.HostStatuses(), k)
		out[h] = time.UnixMilli(ms)
	}
	return out, nil
}
