package harness

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/agent/fake"
	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
)

// Hollow configures a hollow agent: the real agent loop over the in-memory runtime, for
// tests and benchmarks of the control plane. Zero durations take short test defaults.
type Hollow struct {
	Name                string
	Labels              map[string]string
	Store               *store.Store  // required
	LeaseTTL            time.Duration // default 2s
	ResyncInterval      time.Duration // default 2s
	HealthCheckInterval time.Duration // default 50ms: how long a job with a health check takes to run
	// StateDirRoot, when set, holds the agent's state dir (a subdirectory named after it)
	// instead of the test's temp dir: benchmarks put it on a tmpfs.
	StateDirRoot string
	// Runtime and StateDir, when set, are those of an earlier hollow agent of the same
	// name: a restart after Stop then keeps its containers and its host id, as a real
	// agent process restarted on the same machine does. Zero: a fresh runtime and dir.
	Runtime  *fake.Runtime
	StateDir string
}

// HollowAgent is a running hollow agent.
type HollowAgent struct {
	Runtime *fake.Runtime
	stop    func()
}

// Stop ends the agent and waits for it; its lease expires (it is not revoked) so the host
// turns DOWN after the lease TTL, as after a crash. Safe to call twice.
func (h *HollowAgent) Stop() { h.stop() }

// StartHollow starts a hollow agent; it stops when the test ends.
func StartHollow(t testing.TB, cfg Hollow) *HollowAgent {
	t.Helper()
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 2 * time.Second
	}
	if cfg.ResyncInterval <= 0 {
		cfg.ResyncInterval = 2 * time.Second
	}
	if cfg.HealthCheckInterval <= 0 {
		cfg.HealthCheckInterval = 50 * time.Millisecond
	}
	st, rt := cfg.Store, cfg.Runtime
	if rt == nil {
		rt = fake.New()
	}
	switch {
	case cfg.StateDir != "": // an earlier agent's, kept across its restart
	case cfg.StateDirRoot != "":
		cfg.StateDir = filepath.Join(cfg.StateDirRoot, cfg.Name)
		if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
			t.Fatalf("hollow agent %s: state dir: %v", cfg.Name, err)
		}
	default:
		cfg.StateDir = t.TempDir()
	}
	a, err := agent.New(agent.Config{
		Name:    cfg.Name,
		Store:   st,
		Runtime: rt,
		KeepUp: func(ctx context.Context) error {
			return st.KeepLeased(ctx, cfg.LeaseTTL, nil, func(ctx context.Context, lease store.LeaseID) error {
				return st.PutUp(ctx, cfg.Name, lease)
			})
		},
		WatchPrefix:         st.Keys().Host(cfg.Name),
		Labels:              cfg.Labels,
		StateDir:            cfg.StateDir,
		ResyncInterval:      cfg.ResyncInterval,
		HealthCheckInterval: cfg.HealthCheckInterval,
		Version:             "hollow",
		Logger:              zap.NewNop(),
		PortFree:            func(string, int) bool { return true },
	})
	if err != nil {
		t.Fatalf("hollow agent %s: %v", cfg.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("hollow agent %s: %v", cfg.Name, err)
		}
	}()
	var once sync.Once
	h := &HollowAgent{Runtime: rt, stop: func() { once.Do(func() { cancel(); wg.Wait() }) }}
	t.Cleanup(h.Stop)
	return h
}
