package robustness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/agent/fake"
	"github.com/helios-go/helios/controller"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
)

// cluster is everything of one run in this test process: three embedded etcd members, two
// masters serving the API over HTTP on loopback (each with every member's endpoint), and
// hollow agents. Each piece can be stopped and started again, as the fault injector does.
type cluster struct {
	t       *testing.T
	cfgs    []store.EmbedConfig
	members []*store.Embedded
	masters []*master
	hosts   []string
	agents  []*hollowAgent
	agentSt *store.Store // the hollow agents' store, also used for the final checks
}

// master is one in-process master; stop and start keep its address, so clients keep
// their URL across a restart as they would across a process restart.
type master struct {
	name, addr string
	st         *store.Store
	cancel     context.CancelFunc
	done       chan error
}

// hollowAgent is one hollow agent and what survives its restart: runtime and state dir.
type hollowAgent struct {
	name     string
	rt       *fake.Runtime
	stateDir string
	run      *harness.HollowAgent
}

const requestTimeout = 2 * time.Second // the masters' etcd request timeout: faults answer 503/504 quickly

func startCluster(t *testing.T, hosts int) *cluster {
	t.Helper()
	c := &cluster{t: t, members: make([]*store.Embedded, 3)}
	c.cfgs = harness.EtcdMembers(t, "", 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup // no member is ready before a quorum has started: together
	for i := range c.cfgs {
		wg.Go(func() { errs[i] = c.startMember(i) })
	}
	wg.Wait()
	t.Cleanup(func() {
		for i := range c.members {
			c.stopMember(i)
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("start etcd members: %v", err)
	}
	for i := range 2 {
		m := &master{name: fmt.Sprintf("robust-master-%d", i), addr: "127.0.0.1:0"}
		c.masters = append(c.masters, m)
		if err := c.startMaster(i); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for i := range c.masters {
			c.stopMaster(i)
		}
	})
	c.agentSt = storetest.OpenEndpoints(t, c.endpoints(), store.Config{RequestTimeout: requestTimeout})
	for i := range hosts {
		a := &hollowAgent{name: fmt.Sprintf("robust-host-%d", i), rt: fake.New(), stateDir: t.TempDir()}
		c.hosts = append(c.hosts, a.name)
		c.agents = append(c.agents, a)
		c.startAgent(i)
	}
	return c
}

func (c *cluster) endpoints() []string {
	var eps []string
	for _, cfg := range c.cfgs {
		eps = append(eps, cfg.ClientURL)
	}
	return eps
}

func (c *cluster) startMember(i int) error {
	e, err := store.StartEmbedded(context.Background(), c.cfgs[i])
	if err != nil {
		return fmt.Errorf("member %d: %w", i, err)
	}
	c.members[i] = e
	return nil
}

func (c *cluster) stopMember(i int) {
	if c.members[i] != nil {
		c.members[i].Close()
		c.members[i] = nil
	}
}

// startMaster opens the master's own etcd client (as a process would) and serves the API;
// after a restart on the address it had.
func (c *cluster) startMaster(i int) error {
	m := c.masters[i]
	st, err := store.Open(context.Background(), store.ConnectConfig{Endpoints: c.endpoints(), DialTimeout: storetest.DialTimeout},
		store.Config{RequestTimeout: requestTimeout})
	if err != nil {
		return fmt.Errorf("master %s: open etcd: %w", m.name, err)
	}
	var mm *controller.Master
	for try := 0; ; try++ { // the port of the stopped master may take a moment to be free again
		mm, err = controller.NewMaster(controller.MasterConfig{Name: m.name, HTTPAddr: m.addr, Store: st, LeaseTTL: 2 * time.Second, LeaderTTL: 2 * time.Second})
		var op *net.OpError
		if err == nil || try == 50 || !errors.As(err, &op) {
			break
		}
		time.Sleep(100 * time.Millisecond) // poll: the kernel frees the port
	}
	if err != nil {
		_ = st.Close()
		return fmt.Errorf("master %s: %w", m.name, err)
	}
	m.addr, m.st = mm.APIAddr().String(), st
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan error, 1)
	go func() { m.done <- mm.Run(ctx) }()
	return nil
}

func (c *cluster) stopMaster(i int) {
	m := c.masters[i]
	if m.cancel == nil {
		return
	}
	m.cancel()
	select {
	case err := <-m.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			c.t.Errorf("master %s stopped with: %v", m.name, err)
		}
	case <-time.After(20 * time.Second):
		c.t.Errorf("master %s did not stop within 20s", m.name)
	}
	_ = m.st.Close()
	m.cancel = nil
}

func (c *cluster) url(i int) string { return "http://" + c.masters[i].addr }

func (c *cluster) startAgent(i int) {
	a := c.agents[i]
	a.run = harness.StartHollow(c.t, harness.Hollow{Name: a.name, Store: c.agentSt, Runtime: a.rt, StateDir: a.stateDir,
		LeaseTTL: 2 * time.Second, ResyncInterval: time.Second})
}

func (c *cluster) stopAgent(i int) { c.agents[i].run.Stop() }
