package store_test

import (
	"testing"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// TestRestoreSuspectedReport: the agent's report shows in the host's status (one host and
// the bulk read), accept-restore returns it, and once deleted it is gone from both.
func TestRestoreSuspectedReport(t *testing.T) {
	s, cli, _ := newStore(t, store.Config{})
	ctx := testCtx(t)
	mustNil(t, "register", s.RegisterHost(ctx, "h1", "id1"))
	mustNil(t, "register h2", s.RegisterHost(ctx, "h2", "id2"))
	if got, err := s.RestoreSuspected(ctx, "h1"); err != nil || got != nil {
		t.Fatalf("report before any: %+v, %v; want none", got, err)
	}
	if held, err := s.AcceptRestore(ctx, "h2"); err != nil || held != nil {
		t.Errorf("accept-restore of a host that reported nothing: %+v, %v; want no report", held, err)
	}
	want := model.RestoreSuspicion{EtcdGeneration: 30, AgentGeneration: 40, Since: 1_700_000_000_000, HeldActions: 2}
	mustNil(t, "put", s.PutRestoreSuspected(ctx, "h1", want))
	if resp, err := cli.Get(ctx, s.Keys().HostStatus("h1")+"restore-suspected"); err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("status/hosts/h1/restore-suspected: %v, %v; want the key", resp, err)
	}
	if got, err := s.RestoreSuspected(ctx, "h1"); err != nil || got == nil || *got != want {
		t.Errorf("read back %+v, %v; want %+v", got, err, want)
	}
	st, err := s.HostStatus(ctx, "h1")
	mustNil(t, "status", err)
	if st.RestoreSuspected == nil || *st.RestoreSuspected != want {
		t.Errorf("host status says %+v, want %+v", st.RestoreSuspected, want)
	}
	all, err := s.HostStatuses(ctx, nil)
	mustNil(t, "statuses", err)
	if r := all["h1"].RestoreSuspected; r == nil || *r != want {
		t.Errorf("bulk status of h1 says %+v, want %+v", r, want)
	}
	if r := all["h2"].RestoreSuspected; r != nil {
		t.Errorf("bulk status of h2 says %+v, want none", r)
	}
	held, err := s.AcceptRestore(ctx, "h1")
	mustNil(t, "accept", err)
	if held == nil || *held != want {
		t.Errorf("accept-restore answered %+v, want the report %+v", held, want)
	}
	mustNil(t, "delete", s.DeleteRestoreSuspected(ctx, "h1"))
	if st, _ := s.HostStatus(ctx, "h1"); st.RestoreSuspected != nil {
		t.Errorf("after the delete the host status says %+v", st.RestoreSuspected)
	}
	if err := s.PutRestoreSuspected(ctx, "bad/name", want); err == nil {
		t.Error("a report for an invalid host name was written")
	}
}

// TestAgentRoleMayWriteItsRestoreReport: the key is under the host's status prefix, which
// the agent's role writes, and not under another host's.
func TestAgentRoleMayWriteItsRestoreReport(t *testing.T) {
	k := store.NewKeys("/helios")
	key := k.RestoreSuspected("h1")
	writable := func(host string) bool {
		for _, g := range k.AgentRole(host, "").Grants {
			if g.Access == store.AccessReadWrite && (key == g.Key || g.Prefix && len(key) > len(g.Key) && key[:len(g.Key)] == g.Key) {
				return true
			}
		}
		return false
	}
	if !writable("h1") {
		t.Errorf("the agent role of h1 may not write %s", key)
	}
	if writable("h2") {
		t.Errorf("the agent role of h2 may write %s", key)
	}
}
