package cli_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// helios events prints the cluster's changes as they happen, as text and as JSON.
func TestEventsCommandFollowsTheCluster(t *testing.T) {
	x := newH(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := x.m.Etcd.Get(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	// The commands first, then the streams from the revision before them: they replay
	// what happened (urfave's flag parsing is not safe for two commands running at once).
	from := strconv.FormatInt(resp.Header.Revision+1, 10)
	id := strings.TrimSpace(x.ok("create", "-q", "evt:1", "busybox").out)
	x.ok("register", "web9", "id-web9")
	x.ok("deploy", id, "web9")
	x.ok("stop", id, "web9")

	text := x.start("events", "--from-revision", from)
	text.waitOut(t, `(?m)^\S+ \S+  \d+  JOB_CREATED +job=`+regexp.QuoteMeta(id)+`  image=busybox\n`)
	text.waitOut(t, `(?m)  HOST_REGISTERED +host=web9\n`)
	text.waitOut(t, `(?m)  DEPLOYED +host=web9  job=\S+  goal=START\n`)
	text.waitOut(t, `(?m)  GOAL_CHANGED +host=web9  job=\S+  goal=STOP \(was START\)\n`)
	js := x.start("events", "--json", "--from-revision", from)
	js.waitOut(t, `(?m)^\{"revision":\d+,"index":0,"time":\d+,"type":"GOAL_CHANGED","host":"web9","jobId":"`+regexp.QuoteMeta(id)+`","payload":\{"goal":"STOP","previousGoal":"START"\}\}$`)
	// and both follow live.
	if err := x.m.Store.RegisterHost(ctx, "web10", "id-web10"); err != nil {
		t.Fatal(err)
	}
	text.waitOut(t, `(?m)  HOST_REGISTERED +host=web10\n`)
	js.waitOut(t, `"type":"HOST_REGISTERED","host":"web10"`)
	if n := strings.Count(text.out.String(), "JOB_CREATED"); n != 1 {
		t.Fatalf("JOB_CREATED printed %d times:\n%s", n, text.out.String())
	}
	for _, b := range []*bg{text, js} {
		b.cancel() // Ctrl-C
		if code := b.exit(t); code != 0 {
			t.Fatalf("events after Ctrl-C: exit %d\n%s", code, b.err.String())
		}
	}
	// A bad revision is a usage error.
	if r := x.run("events", "--from-revision", "-3"); r.code == 0 || !strings.Contains(r.err, "--from-revision") {
		t.Fatalf("--from-revision -3: exit %d, stderr %q", r.code, r.err)
	}
}
