package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A master that becomes leader moves the legacy history an older agent wrote to the
// per-host layout; an event an older agent writes afterwards is moved by the next term.
func TestLeaderMigratesLegacyHistory(t *testing.T) {
	cli, e := storetest.NewEtcd(t)
	st := storetest.Open(t, e, store.Config{RequestTimeout: 2 * time.Second})
	ctx := context.Background()
	k := st.Keys()
	if err := st.RegisterHost(ctx, "h1", "id1"); err != nil {
		t.Fatal(err)
	}
	legacy := k.LegacyHistoryEvent("web:1:abc", "h1", 1000)
	if _, err := cli.Put(ctx, legacy, `{"timestamp":1,"host":"h1","status":{"state":"RUNNING"}}`); err != nil {
		t.Fatal(err)
	}
	moved := func(key string) func() error {
		return func() error {
			resp, err := cli.Get(ctx, k.LegacyHistories(), clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil || resp.Count != 0 {
				return fmt.Errorf("legacy keys left: %v, %v", resp, err)
			}
			got, err := cli.Get(ctx, key)
			if err != nil || len(got.Kvs) != 1 {
				return fmt.Errorf("%s not there: %v", key, err)
			}
			return nil
		}
	}
	stop := startTestMaster(t, st, "first")
	eventually(t, 20*time.Second, moved(k.HistoryEvent("web:1:abc", "h1", 1000)))
	stop()

	if _, err := cli.Put(ctx, k.LegacyHistoryEvent("web:1:abc", "h1", 2000), `{"timestamp":2,"host":"h1","status":{"state":"EXITED"}}`); err != nil {
		t.Fatal(err)
	}
	startTestMaster(t, st, "second")
	eventually(t, 20*time.Second, moved(k.HistoryEvent("web:1:abc", "h1", 2000)))
	evs, err := st.History(ctx, "web:1:abc")
	if err != nil || len(evs) != 2 {
		t.Errorf("history after two terms: %v, %v; want both events once", evs, err)
	}
}
