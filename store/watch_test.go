package store_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
)

type reset struct {
	keys []string
	rev  int64
}

func TestWatchPrefixDeliversEventsUnderPrefixOnly(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx, cancel := context.WithCancel(testCtx(t))
	_, err := cli.Put(ctx, "/w/a/1", "x")
	mustNil(t, "put", err)

	resets := make(chan reset, 10)
	events := make(chan store.Event, 10)
	done := make(chan error, 1)
	go func() {
		done <- s.WatchPrefix(ctx, "/w/a/", func(kvs []store.KV, rev int64) {
			resets <- reset{keys: kvKeys(kvs), rev: rev}
		}, func(evs []store.Event) {
			for _, e := range evs {
				events <- e
			}
		})
	}()
	r := recv(t, resets, "first reset")
	if len(r.keys) != 1 || r.keys[0] != "/w/a/1" {
		t.Fatalf("first reset %v, want /w/a/1", r.keys)
	}
	_, err = cli.Put(ctx, "/w/ab/1", "not mine") // shares the name prefix, not the directory
	mustNil(t, "put", err)
	_, err = cli.Put(ctx, "/w/a/2", "y")
	mustNil(t, "put", err)
	_, err = cli.Delete(ctx, "/w/a/1")
	mustNil(t, "delete", err)

	e := recv(t, events, "put event")
	if e.Type != store.EventPut || e.Key != "/w/a/2" || string(e.Value) != "y" || e.Revision <= r.rev {
		t.Errorf("event %+v, want put of /w/a/2 after revision %d", e, r.rev)
	}
	e = recv(t, events, "delete event")
	if e.Type != store.EventDelete || e.Key != "/w/a/1" {
		t.Errorf("event %+v, want delete of /w/a/1", e)
	}
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("WatchPrefix returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchPrefix did not return after ctx was canceled")
	}
}

// A watch that would start from a compacted revision lists again and resets with the
// current state.
func TestWatchPrefixSurvivesCompaction(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	resets := make(chan reset, 10)
	release := make(chan struct{})
	calls := 0
	go func() {
		_ = s.WatchPrefix(ctx, "/c/", func(kvs []store.KV, rev int64) {
			resets <- reset{keys: kvKeys(kvs), rev: rev}
			if calls++; calls == 1 {
				<-release // hold the first watch back until its revision is compacted
			}
		}, func([]store.Event) {})
	}()
	first := recv(t, resets, "first reset")
	for _, k := range []string{"/c/1", "/c/2", "/other"} {
		_, err := cli.Put(ctx, k, "v")
		mustNil(t, "put", err)
	}
	now := revision(t, cli)
	_, err := cli.Compact(ctx, now)
	mustNil(t, "compact", err)
	close(release)

	second := recv(t, resets, "reset after compaction")
	if second.rev < now || len(second.keys) != 2 || second.keys[0] != "/c/1" || second.keys[1] != "/c/2" {
		t.Errorf("reset after compaction %+v (first %+v), want /c/1 /c/2 at revision >= %d", second, first, now)
	}
}

func TestPokeCoalescesAndCloses(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx, cancel := context.WithCancel(testCtx(t))
	ch := s.Poke(ctx, "/p/")
	recv(t, ch, "initial poke")
	// A second watcher of the prefix tells when the changes below have been delivered: the
	// positive marker after which the pokes they caused are all in ch.
	seen := make(chan int64, 16)
	go func() {
		_ = s.WatchPrefix(ctx, "/p/", func(_ []store.KV, rev int64) { seen <- rev }, func(evs []store.Event) {
			for _, ev := range evs {
				seen <- ev.Revision
			}
		})
	}()
	var last int64
	for i := range 5 {
		resp, err := cli.Put(ctx, "/p/k", string(rune('a'+i)))
		mustNil(t, "put", err)
		last = resp.Header.Revision
	}
	for rev := int64(0); rev < last; {
		select {
		case rev = <-seen:
		case <-time.After(10 * time.Second):
			t.Fatalf("the second watcher did not see revision %d", last)
		}
	}
	// Five changes nobody read yet queue one poke, not five. (The channel's capacity alone
	// does not make this true: a poke per change with a larger buffer would queue them all.)
	if n := len(ch); n > 1 {
		t.Errorf("%d pokes queued after five changes, want at most 1", n)
	}
	recv(t, ch, "poke after puts")
	_, err := cli.Put(ctx, "/q/k", "v")
	mustNil(t, "put elsewhere", err)
	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("poke channel not closed after ctx was canceled")
		}
	}
}

func kvKeys(kvs []store.KV) []string {
	var out []string
	for _, kv := range kvs {
		out = append(out, kv.Key)
	}
	sort.Strings(out)
	return out
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
