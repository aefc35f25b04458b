package harness

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/helios-go/helios/store"
)

// EtcdMembers is the configuration of n embedded etcd members named m0…m<n-1> (or name
// alone when n is 1) that form one cluster: data dirs under a temp dir of t, loopback
// ports of their own, no fsync (tests only). Start them with store.StartEmbedded, all at
// once when n > 1, since none is ready before a quorum has started.
func EtcdMembers(t testing.TB, name string, n int) []store.EmbedConfig {
	t.Helper()
	dir := t.TempDir()
	cfgs := make([]store.EmbedConfig, n)
	var peers []string
	for i := range cfgs {
		member := name
		if n > 1 {
			member = fmt.Sprintf("m%d", i)
		}
		cfgs[i] = store.EmbedConfig{
			Name:          member,
			DataDir:       filepath.Join(dir, member),
			ClientURL:     fmt.Sprintf("http://127.0.0.1:%d", FreePort(t)),
			PeerURL:       fmt.Sprintf("http://127.0.0.1:%d", FreePort(t)),
			UnsafeNoFsync: true,
			Logger:        zap.NewNop(),
		}
		peers = append(peers, member+"="+cfgs[i].PeerURL)
	}
	if n > 1 {
		for i := range cfgs {
			cfgs[i].InitialCluster = strings.Join(peers, ",")
		}
	}
	return cfgs
}
