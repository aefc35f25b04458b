package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// KV is one key as listed.
type KV struct {
	Key         string
	Value       []byte
	ModRevision int64
}

// EventType says whether a watched key was written or deleted.
type EventType string

// Event types.
const (
	EventPut    EventType = "PUT"
	EventDelete EventType = "DELETE"
)

// Put and Delete are short names of EventPut and EventDelete.
const (
	Put    = EventPut
	Delete = EventDelete
)

// Event is one change seen by a watch. Value is empty for a delete.
type Event struct {
	Type     EventType
	Key      string
	Value    []byte
	Revision int64
}

// Bounds of the pause between a failed list or watch and the next list.
const (
	watchBackoffMin = 100 * time.Millisecond
	watchBackoffMax = 5 * time.Second
)

// errWatchEnded reports a watch that stopped without an error of its own.
var errWatchEnded = errors.New("watch channel closed")

// WatchPrefix lists prefix at one revision and calls onReset with what is there, then
// watches from the next revision and calls onEvents with each batch of changes. Whenever
// the watch breaks (compacted revision, lost leader, canceled, any error) it lists again
// and calls onReset again, so a caller that rebuilds its state in onReset never misses a
// change. The watch requires a leader, so a member cut off from quorum fails it instead of
// leaving it silent. Callbacks run on the calling goroutine, one at a time.
// It returns ctx.Err() once ctx is done, and only then.
func (s *Store) WatchPrefix(ctx context.Context, prefix string, onReset func(kvs []KV, rev int64), onEvents func(evs []Event)) error {
	backoff := watchBackoffMin
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		resp, err := s.get(ctx, "watch-list", prefix, clientv3.WithPrefix())
		if err == nil {
			kvs := make([]KV, len(resp.Kvs))
			for i, kv := range resp.Kvs {
				kvs[i] = KV{Key: string(kv.Key), Value: kv.Value, ModRevision: kv.ModRevision}
			}
			onReset(kvs, resp.Header.Revision)
			var delivered bool
			delivered, err = s.watchFrom(ctx, prefix, resp.Header.Revision+1, onEvents)
			if delivered {
				backoff = watchBackoffMin
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Info("watch broke, listing again", zap.String("prefix", prefix), zap.Duration("backoff", backoff), zap.Error(err))
		if !sleep(ctx, backoff) {
			return ctx.Err()
		}
		backoff = min(2*backoff, watchBackoffMax)
	}
}

// watchFrom delivers events under prefix from rev on until the watch fails; delivered
// tells whether any response came through (the connection worked).
func (s *Store) watchFrom(ctx context.Context, prefix string, rev int64, onEvents func([]Event)) (delivered bool, err error) {
	wctx, cancel := context.WithCancel(ownWatchStream(clientv3.WithRequireLeader(ctx)))
	defer cancel() // ends the watch stream when we return early
	for wr := range s.cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev)) {
		if wr.CompactRevision != 0 {
			s.metrics.failed("watch")
			return delivered, fmt.Errorf("watch %s from revision %d: compacted at %d: %w", prefix, rev, wr.CompactRevision, ErrCompacted)
		}
		if err := wr.Err(); err != nil {
			s.metrics.failed("watch")
			return delivered, fmt.Errorf("watch %s: %w", prefix, err)
		}
		if wr.Canceled {
			return delivered, fmt.Errorf("watch %s: canceled: %s", prefix, wr.CancelReason)
		}
		delivered = true
		if len(wr.Events) == 0 {
			continue
		}
		evs := make([]Event, len(wr.Events))
		for i, e := range wr.Events {
			evs[i] = Event{Type: EventPut, Key: string(e.Kv.Key), Value: e.Kv.Value, Revision: e.Kv.ModRevision}
			if e.Type == mvccpb.DELETE {
				evs[i].Type, evs[i].Value = EventDelete, nil
			}
		}
		onEvents(evs)
	}
	return delivered, errWatchEnded
}

// Poke returns a channel that receives a value whenever anything under prefix changes and
// whenever the watch restarts (so also once at the start). Sends never block and coalesce:
// a reader that was busy finds one value however many changes happened, and must re-read
// the state itself. The channel is closed once ctx is done. For level-triggered loops.
func (s *Store) Poke(ctx context.Context, prefix string) <-chan struct{} {
	return s.pokeWhen(ctx, nil, prefix, nil)
}

// PokeMembership is Poke for what deployment group membership depends on: hosts
// registered or deregistered, coming up or going down, and their labels. The many task
// status writes under the same prefixes do not wake it.
func (s *Store) PokeMembership(ctx context.Context) <-chan struct{} {
	return s.pokeAny(ctx,
		pokeSource{s.keys.Hosts(), func(rest string) bool { return strings.HasSuffix(rest, "/id") }},
		pokeSource{s.keys.HostStatuses(), func(rest string) bool {
			return strings.HasSuffix(rest, "/up") || strings.HasSuffix(rest, "/labels")
		}})
}

// pokeSource is a prefix to watch and which keys below it matter (nil: all).
type pokeSource struct {
	prefix string
	match  func(rest string) bool
}

// pokeAny is one poke channel fed by several watches, closed once ctx is done.
func (s *Store) pokeAny(ctx context.Context, sources ...pokeSource) <-chan struct{} {
	ch := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(len(sources))
	for _, src := range sources {
		go func() {
			defer wg.Done()
			s.pokeWhen(ctx, ch, src.prefix, src.match)
		}()
	}
	go func() {
		wg.Wait()
		close(ch)
	}()
	return ch
}

// pokeWhen pokes ch (a new channel when nil, closed with ctx) on every change under prefix
// whose key below the prefix matches (nil: every change) and on every (re-)list. With a
// given ch it blocks until ctx is done; with nil it returns the new channel at once.
func (s *Store) pokeWhen(ctx context.Context, ch chan struct{}, prefix string, match func(rest string) bool) chan struct{} {
	poke := func(c chan struct{}) {
		select {
		case c <- struct{}{}:
		default:
		}
	}
	run := func(c chan struct{}) {
		_ = s.WatchPrefix(ctx, prefix, func([]KV, int64) { poke(c) }, func(evs []Event) {
			for _, ev := range evs {
				if match == nil || match(strings.TrimPrefix(ev.Key, prefix)) {
					poke(c)
					return
				}
			}
		})
	}
	if ch != nil {
		run(ch)
		return ch
	}
	ch = make(chan struct{}, 1)
	go func() {
		defer close(ch)
		run(ch)
	}()
	return ch
}

// sleep waits d or until ctx is done; false if ctx ended it.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// PokeDeploymentGroup is Poke for what a group's status shows: its definition and status,
// and the deployments and task statuses of every host.
func (s *Store) PokeDeploymentGroup(ctx context.Context, name string) <-chan struct{} {
	return s.pokeAny(ctx, pokeSource{prefix: s.keys.DeploymentGroup(name)}, pokeSource{prefix: s.keys.DeploymentGroupStatus(name)},
		pokeSource{prefix: s.keys.Hosts()}, pokeSource{prefix: s.keys.HostStatuses()})
}
