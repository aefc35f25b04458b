package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

// A stream cut off is resumed at the last revision seen, its repeats dropped; a compacted
// revision starts the stream afresh after a warning.
func TestFollowEventsResumesAndStartsAfreshWhenCompacted(t *testing.T) {
	e := func(rev int64, idx int, host string) string {
		b, _ := json.Marshal(model.ClusterEvent{Revision: rev, Index: idx, Type: model.EventHostUp, Host: host})
		return string(b) + "\n"
	}
	cut, _ := json.Marshal(model.ClusterEvent{Revision: 6, Type: model.EventStreamCut, Message: "too slow"})
	var conns atomic.Int32
	froms := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		froms <- r.URL.Query().Get("fromRevision")
		n := conns.Add(1)
		if n == 3 {
			w.WriteHeader(http.StatusGone)
			fmt.Fprint(w, `{"status":"REVISION_COMPACTED","message":"gone"}`)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		switch n {
		case 1: // from the given revision; cut off in the middle of revision 6
			fmt.Fprint(w, e(5, 0, "a")+e(5, 1, "b")+e(6, 0, "c")+string(cut)+"\n")
		case 2: // resumed at 6: its first event again, then the rest; then the master goes away
			fmt.Fprint(w, e(6, 0, "c")+"\n"+e(6, 1, "d")+e(7, 0, "e"))
		default: // afresh
			fmt.Fprint(w, e(20, 0, "z"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	c := testClient(srv.URL)
	c.retryDelay = func(int) time.Duration { return 10 * time.Millisecond }

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got, warnings []string
	err := c.followEvents(ctx, 5, func(ev model.ClusterEvent) {
		got = append(got, fmt.Sprintf("%d.%d%s", ev.Revision, ev.Index, ev.Host))
		if ev.Host == "z" {
			cancel()
		}
	}, func(w string) { warnings = append(warnings, w) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("followEvents: %v", err)
	}
	if strings.Join(got, " ") != "5.0a 5.1b 6.0c 6.1d 7.0e 20.0z" {
		t.Fatalf("events %v: want each once, in order", got)
	}
	for i, want := range []string{"5", "6", "7", ""} {
		if f := <-froms; f != want {
			t.Fatalf("connection %d: fromRevision=%q, want %q", i+1, f, want)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "missed") {
		t.Fatalf("warnings %q: want one saying events were missed", warnings)
	}
}

func TestClusterEventPrinter(t *testing.T) {
	var b bytes.Buffer
	p := clusterEventPrinter{w: &b, loc: time.UTC}
	p.print(model.ClusterEvent{Revision: 12, Time: 1_700_000_000_000, Type: model.EventTaskState, Host: "web1", JobID: "a:1:x",
		Payload: &model.EventPayload{State: model.StateRunning, PreviousState: model.StateStarting, Goal: model.GoalStart}})
	p.print(model.ClusterEvent{Revision: 13, Time: 1_700_000_000_000, Type: model.EventGroupStatus, Group: "g",
		Payload: &model.EventPayload{GroupState: model.GroupRollingOut, RolloutJobID: "a:2:y", TaskIndex: 1, Tasks: 3}})
	want := "2023-11-14 22:13:20.000  12  TASK_STATE         host=web1  job=a:1:x  state=RUNNING (was STARTING) goal=START\n" +
		"2023-11-14 22:13:20.000  13  GROUP_STATUS       group=g  group-state=ROLLING_OUT rollout=a:2:y step=1/3\n"
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// With two masters, a stream cut by a master that goes away resumes on the other at once,
// from the last revision seen: the retry delay (an hour here) is not waited.
func TestFollowEventsFailsOverToTheNextMasterAtOnce(t *testing.T) {
	e := func(rev int64, host string) string {
		b, _ := json.Marshal(model.ClusterEvent{Revision: rev, Type: model.EventHostUp, Host: host})
		return string(b) + "\n"
	}
	froms1, froms2 := make(chan string, 10), make(chan string, 10)
	dying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		froms1 <- r.URL.Query().Get("fromRevision")
		w.Header().Set("Content-Type", "application/x-ndjson")
		fmt.Fprint(w, e(5, "a")) // one event, then the master dies
	}))
	t.Cleanup(dying.Close)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		froms2 <- r.URL.Query().Get("fromRevision")
		w.Header().Set("Content-Type", "application/x-ndjson")
		fmt.Fprint(w, e(5, "a")+e(6, "b"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(other.Close)
	c := testClient(dying.URL, other.URL)
	if err := c.resolve(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.next = 0 // resolve starts at a random master: the dying one first here
	c.retryDelay = func(int) time.Duration { return time.Hour }

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var hosts []string
	err := c.followEvents(ctx, 0, func(ev model.ClusterEvent) {
		hosts = append(hosts, ev.Host)
		if len(hosts) == 2 {
			cancel()
		}
	}, func(w string) { t.Errorf("warning: %s", w) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("followEvents: %v after %v, want the two events and no wait", err, hosts)
	}
	if strings.Join(hosts, ",") != "a,b" {
		t.Errorf("events: %v, want a,b (the repeat of a dropped)", hosts)
	}
	if from := <-froms1; from != "" {
		t.Errorf("first stream fromRevision=%q, want none", from)
	}
	if from := <-froms2; from != "5" {
		t.Errorf("failover stream fromRevision=%q, want 5", from)
	}
}
