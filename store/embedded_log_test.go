package store_test

import (
	"testing"

	"github.com/helios-go/helios/store"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// A clean start and stop of the embedded member logs no warning and no error: etcd's
// shutdown noise ("setting up serving from embedded etcd failed") is not a failure.
func TestEmbeddedStartAndStopLogNoWarnings(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	cfg := store.EmbedConfig{Name: "quiet", DataDir: t.TempDir() + "/etcd", UnsafeNoFsync: true, Logger: zap.New(core)}
	cfg.ClientURL, cfg.PeerURL = twoURLs(t)
	e, err := store.StartEmbedded(testCtx(t), cfg)
	mustNil(t, "start", err)
	e.Close()
	if logs.FilterMessage("closed etcd server").Len() == 0 {
		t.Fatalf("no \"closed etcd server\" line: the member's log was not observed (%d entries)", logs.Len())
	}
	for _, l := range logs.All() {
		if l.Level >= zapcore.WarnLevel {
			t.Errorf("%s: %s %v", l.Level, l.Message, l.ContextMap())
		}
	}
}
