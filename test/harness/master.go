package harness

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/helios-go/helios/controller"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Master is an in-process master serving the REST API on a loopback port.
type Master struct {
	URL   string           // base URL of the API, e.g. http://127.0.0.1:41234
	Store *store.Store     // the store the master writes through
	Etcd  *clientv3.Client // a client of the master's etcd, for assertions
	Embed *store.Embedded  // the embedded etcd: Close it to simulate an outage
}

// MasterOption adjusts an in-process master before it starts.
type MasterOption func(*controller.MasterConfig)

// WithCapabilities sets the master's addCapabilities whitelist.
func WithCapabilities(caps ...string) MasterOption {
	return func(c *controller.MasterConfig) { c.CapabilityWhitelist = caps }
}

// StartMaster starts a master on its own embedded etcd; both stop when the test ends.
func StartMaster(t testing.TB, opts ...MasterOption) *Master {
	t.Helper()
	cli, embed := storetest.NewEtcd(t)
	st := storetest.Open(t, embed, store.Config{RequestTimeout: 2 * time.Second})
	cfg := controller.MasterConfig{
		Name:     "test-master",
		HTTPAddr: "127.0.0.1:0",
		Store:    st,
		LeaseTTL: 2 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := controller.NewMaster(cfg)
	if err != nil {
		t.Fatalf("start master: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("master stopped with: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("master did not stop within 10s")
		}
	})
	return &Master{URL: "http://" + m.APIAddr().String(), Store: st, Etcd: cli, Embed: embed}
}

// WithTokens turns authentication on with these bearer tokens.
func WithTokens(tokens map[string]model.Principal) MasterOption {
	return func(c *controller.MasterConfig) { c.Tokens = tokens }
}
