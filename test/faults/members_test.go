package faults

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/test/harness"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// members is a three-member etcd cluster of embedded members in the test process (as in
// store/cluster_test.go: Debian's etcd is four minor versions behind the client), each on
// its own ports and data dir, so the test can stop and restart any of them.
type members struct {
	t    *testing.T
	cfgs []store.EmbedConfig
	run  []*store.Embedded
	cli  *clientv3.Client
}

func startMembers(t *testing.T) *members {
	t.Helper()
	m := &members{t: t, run: make([]*store.Embedded, 3)}
	m.cfgs = harness.EtcdMembers(t, "", 3)
	var wg sync.WaitGroup // none is ready before a quorum has started: together
	for i := range m.cfgs {
		wg.Go(func() { m.start(i) })
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, e := range m.run {
			if e != nil {
				e.Close()
			}
		}
	})
	cli, err := clientv3.New(clientv3.Config{Endpoints: m.endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	m.cli = cli
	return m
}

func (m *members) start(i int) {
	e, err := store.StartEmbedded(context.Background(), m.cfgs[i])
	if err != nil {
		m.t.Errorf("start member %d: %v", i, err)
		return
	}
	m.run[i] = e
}

func (m *members) stop(i int) {
	m.run[i].Close()
	m.run[i] = nil
}

func (m *members) endpoints() []string {
	var eps []string
	for _, c := range m.cfgs {
		eps = append(eps, c.ClientURL)
	}
	return eps
}

// leader is the index of the member that leads now, asked of a running member.
func (m *members) leader() int {
	m.t.Helper()
	var last error
	for try := 0; try < 100; try++ {
		for i, e := range m.run {
			if e == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			st, err := m.cli.Status(ctx, m.cfgs[i].ClientURL)
			cancel()
			if err != nil {
				last = err
				continue
			}
			if st.Leader == 0 {
				last = fmt.Errorf("member %d knows no leader", i)
				continue
			}
			for j := range m.cfgs {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				sj, err := m.cli.Status(ctx, m.cfgs[j].ClientURL)
				cancel()
				if err == nil && sj.Header.MemberId == st.Leader {
					return j
				}
			}
		}
		time.Sleep(100 * time.Millisecond) // poll: an election is under way
	}
	m.t.Fatalf("no leader found: %v", last)
	return -1
}

// TestFaultEtcdMembersLostOneAtATime runs a helios-master and a helios-agent process on a
// three-member etcd cluster: a follower is stopped, then brought back, then the leader
// member is stopped. Throughout, every CLI command succeeds (within its own retries), the
// containers keep running untouched, and a job deployed meanwhile runs.
func TestFaultEtcdMembersLostOneAtATime(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: starts three etcd members, a master, an agent and containers (run without -short)")
	}
	harness.NeedBusybox(t)
	bins := harness.BuildBinaries(t)
	m := startMembers(t)
	c := &cluster{t: t, bins: bins, etcd: m.cli, etcdEP: strings.Join(m.endpoints(), ",")}
	c.master = c.startMaster("fault-members", m.endpoints()...)
	host := "fault-members-" + harness.RunID(t)
	c.startAgent(host, c.etcdEP)
	c.waitHost(host, "Up", 30*time.Second)
	c.deploy("steady:1", host)
	ids := c.waitRunning(host, 60*time.Second, "steady")
	started := inspect(t, "{{.State.StartedAt}}", ids["steady"])

	// commands runs a round of CLI commands (each retries by itself; none may fail) and
	// returns the slowest one's time.
	round := 0
	commands := func(phase string) {
		t.Helper()
		round++
		job := fmt.Sprintf("r%d:1", round)
		var slowest time.Duration
		for _, args := range [][]string{
			{"create", job, "busybox:latest", "--", "/bin/sh", "-c", "while true; do sleep 1; done"},
			{"deploy", job, host},
			{"jobs", "-q"},
			{"status", "--host", host},
			{"hosts"},
		} {
			start := time.Now()
			c.helios(args...) // fails the test on a non-zero exit
			slowest = max(slowest, time.Since(start))
		}
		t.Logf("figure: %s: 5 commands, none failed, slowest %v", phase, slowest.Round(time.Millisecond))
	}

	follower := (m.leader() + 1) % 3
	m.stop(follower)
	commands(fmt.Sprintf("follower m%d stopped", follower))
	m.start(follower)
	commands(fmt.Sprintf("follower m%d back", follower))
	leader := m.leader()
	m.stop(leader)
	commands(fmt.Sprintf("leader m%d stopped", leader))

	jobs := []string{"steady"}
	for i := 1; i <= round; i++ {
		jobs = append(jobs, fmt.Sprintf("r%d", i))
	}
	after := c.waitRunning(host, 60*time.Second, jobs...)
	if after["steady"] != ids["steady"] {
		t.Errorf("steady:1 runs in %s, want the same container %s", after["steady"], ids["steady"])
	}
	if got := inspect(t, "{{.State.StartedAt}}", ids["steady"]); got != started {
		t.Errorf("steady:1 was restarted (started %s, was %s)", got, started)
	}
	t.Logf("figure: steady:1 restarts 0; %d jobs deployed during the faults run", round)
}
