package groups

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
)

// TestLeaderKilledMidRolloutIsResumedWithoutRepeatingSteps runs three helios-master
// processes over one etcd and twelve hollow agents, SIGKILLs the leading master in the
// middle of a rollout, and checks that the rollout completes under a new leader, that
// every host got the new job deployed (and the old one undeployed) exactly once, and that
// no two masters ever reported leading at the same time.
func TestLeaderKilledMidRolloutIsResumedWithoutRepeatingSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three helios-master processes; not in -short")
	}
	bins := harness.BuildBinaries(t)
	_, embed := storetest.NewEtcd(t)
	st := storetest.Open(t, embed, store.Config{RequestTimeout: 5 * time.Second})
	masters := map[string]*harness.Process{}
	urls := map[string]string{}
	for _, name := range []string{"m1", "m2", "m3"} {
		port := harness.FreePort(t)
		urls[name] = fmt.Sprintf("http://127.0.0.1:%d", port)
		masters[name] = harness.Start(t, bins.Path("helios-master"), "--name", name, "--http", fmt.Sprintf("127.0.0.1:%d", port),
			"--etcd", embed.Endpoints()[0], "--leader-lease-ttl", "2s", "--master-lease-ttl", "2s")
	}
	for _, u := range urls {
		harness.WaitHTTP(t, u+"/version", 30*time.Second)
	}
	leader := waitLeader(t, st, "")

	// Any live master serves the API; use one that is not the leader, so killing the
	// leader does not take the test's own endpoint with it.
	var api string
	for name, u := range urls {
		if name != leader {
			api = u
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fleet{t: t, st: st, url: api, ctx: ctx, agents: map[string]*harness.HollowAgent{}, healthInterval: 400 * time.Millisecond}
	var hosts []string
	for i := 1; i <= 12; i++ {
		h := fmt.Sprintf("web%d", i)
		hosts = append(hosts, h)
		f.agent(h, web(h))
	}
	check := &model.HealthCheck{Type: "exec", Command: []string{"true"}}
	f.group("web", "role=web")
	v1 := f.job(model.Job{ID: "svc:1", Image: "busybox", HealthCheck: check})
	v2 := f.job(model.Job{ID: "svc:2", Image: "busybox", HealthCheck: check})
	f.roll("web", v1, &model.RolloutOptions{Parallelism: intp(4)})
	f.waitState("web", model.GroupDone, 60*time.Second)

	// From here on, count every write of a deployment key, and watch the masters' leader
	// gauges for two masters leading at once.
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	writes := countDeploymentWrites(t, watchCtx, st)
	overlap := watchLeaderGauges(watchCtx, urls)

	f.roll("web", v2, nil) // one host at a time: about 12 × 0.4 s
	f.waitFor(60*time.Second, "the rollout a third of the way through", func() (bool, error) {
		s := f.status("web")
		return s.TaskIndex >= s.TaskCount/3, nil
	})
	masters[leader].Kill()
	t.Logf("killed the leader %s at %s", leader, hostsLine(f.status("web")))
	next := waitLeader(t, st, leader)
	t.Logf("new leader: %s", next)
	f.waitState("web", model.GroupDone, 90*time.Second)

	stopWatching()
	w := writes()
	for _, h := range hosts {
		if got := w[h+" put "+string(v2)]; got != 1 {
			t.Errorf("%s: %s deployed %d times, want exactly once", h, v2, got)
		}
		if got := w[h+" delete "+string(v1)]; got != 1 {
			t.Errorf("%s: %s undeployed %d times, want exactly once", h, v1, got)
		}
	}
	if o := overlap(); o != "" {
		t.Errorf("two masters reported leading at once: %s", o)
	}
	deps := f.deployments(hosts...)
	for _, h := range hosts {
		if len(deps[h]) != 1 || deps[h][0] != v2 {
			t.Errorf("%s runs %v, want only %s", h, deps[h], v2)
		}
	}
}

// waitLeader waits until a master other than not leads, and returns its name.
func waitLeader(t *testing.T, st *store.Store, not string) string {
	t.Helper()
	var name string
	harness.Eventually(t, 30*time.Second, func() error {
		var err error
		name, err = st.Leader(context.Background())
		if err == nil && name == not {
			err = fmt.Errorf("%s still leads", not)
		}
		return err
	})
	return name
}

// countDeploymentWrites watches every host's deployments from now on and returns a func
// giving how often each "host put|delete job" happened.
func countDeploymentWrites(t *testing.T, ctx context.Context, st *store.Store) func() map[string]int {
	var mu sync.Mutex
	counts := map[string]int{}
	started := make(chan struct{})
	done := make(chan struct{})
	prefix := st.Keys().Hosts()
	go func() {
		defer close(done)
		first := true
		_ = st.WatchPrefix(ctx, prefix, func([]store.KV, int64) {
			if first {
				first = false
				close(started)
				return
			}
			t.Errorf("the deployment watch broke and listed again: writes may be missed")
		}, func(evs []store.Event) {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range evs {
				host, rest, ok := strings.Cut(strings.TrimPrefix(ev.Key, prefix), "/jobs/")
				if !ok || strings.Contains(host, "/") {
					continue
				}
				op := "put"
				if ev.Type == store.EventDelete {
					op = "delete"
				}
				counts[host+" "+op+" "+rest]++
			}
		})
	}()
	<-started
	return func() map[string]int {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return counts
	}
}

// watchLeaderGauges scrapes every master's helios_controller_leader every 20 ms until ctx
// ends, and returns a func telling when (if ever) more than one reported 1.
func watchLeaderGauges(ctx context.Context, urls map[string]string) func() string {
	var found string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			var leading []string
			for name, u := range urls {
				if leaderGauge(ctx, u) {
					leading = append(leading, name)
				}
			}
			if len(leading) > 1 && found == "" {
				found = fmt.Sprintf("%v at %s", leading, time.Now().Format(time.RFC3339Nano))
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() string { <-done; return found }
}

// leaderGauge reads helios_controller_leader from a master's /metrics; false if it is gone.
func leaderGauge(ctx context.Context, url string) bool {
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, url+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "helios_controller_leader ") {
			return strings.TrimSpace(strings.TrimPrefix(sc.Text(), "helios_controller_leader ")) == "1"
		}
	}
	return false
}
