package storetest_test

import (
	"context"
	"testing"

	"github.com/helios-go/helios/store/storetest"
)

func TestNewEtcdServesKeys(t *testing.T) {
	cli, _ := storetest.NewEtcd(t)
	ctx := context.Background()
	if _, err := cli.Put(ctx, "/k", "v"); err != nil {
		t.Fatalf("put: %v", err)
	}
	resp, err := cli.Get(ctx, "/k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("get /k = %v, %v; want v", resp, err)
	}
}
