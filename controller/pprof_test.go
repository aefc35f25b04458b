package controller

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/store/storetest"
)

// TestPprofOnlyOnTheMetricsListener: with Pprof, the profiles are served on the metrics
// address and not on the API's; without a metrics address, Pprof is refused.
func TestPprofOnlyOnTheMetricsListener(t *testing.T) {
	st := storetest.NewStore(t)
	if _, err := NewMaster(MasterConfig{Name: "m", HTTPAddr: "127.0.0.1:0", Store: st, Pprof: true}); err == nil || !strings.Contains(err.Error(), "--metrics") {
		t.Fatalf("Pprof without a metrics address: %v, want an error naming --metrics", err)
	}
	for _, pprofOn := range []bool{false, true} {
		m, err := NewMaster(MasterConfig{Name: "m", HTTPAddr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0", Store: st, Pprof: pprofOn, LeaseTTL: time.Second, LeaderTTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = m.Run(ctx) }()
		get := func(url string) int {
			t.Helper()
			var code int
			eventually(t, 10*time.Second, func() error { // the servers start in Run
				resp, err := http.Get(url)
				if err != nil {
					return err
				}
				resp.Body.Close()
				code = resp.StatusCode
				return nil
			})
			return code
		}
		metrics := "http://" + m.MetricsAddr().String()
		if got := get(metrics + "/metrics"); got != http.StatusOK {
			t.Errorf("pprof %v: GET /metrics = %d", pprofOn, got)
		}
		want := http.StatusNotFound
		if pprofOn {
			want = http.StatusOK
		}
		if got := get(metrics + "/debug/pprof/cmdline"); got != want {
			t.Errorf("pprof %v: GET /debug/pprof/cmdline on the metrics listener = %d, want %d", pprofOn, got, want)
		}
		if got := get("http://" + m.APIAddr().String() + "/debug/pprof/cmdline"); got == http.StatusOK {
			t.Errorf("pprof %v: the API's listener serves /debug/pprof/", pprofOn)
		}
		cancel()
		<-done
	}
}
