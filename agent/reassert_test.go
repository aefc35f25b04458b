package agent_test

import (
	"context"
	"testing"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestStateLostFromEtcdIsPushedAgain deletes the host's registration and task statuses from
// etcd under a running agent (as a restore from an older backup would): within a resync the
// host is registered again with its id and labels and its tasks reported again, without
// touching the containers. With nothing lost, resyncs write nothing.
func TestStateLostFromEtcdIsPushedAgain(t *testing.T) {
	h := newHarness(t)
	h.start()
	id := h.createJob("lost", nil)
	h.deploy(id, model.GoalStart)
	running := h.waitState(id, model.StateRunning)
	ctx := context.Background()
	hostID, err := h.st.HostID(ctx, h.name)
	if err != nil {
		t.Fatal(err)
	}

	// Several resyncs with nothing lost: no status is written again.
	before := len(h.history(id))
	h.waitResyncs(4)
	if after := len(h.history(id)); after != before {
		t.Fatalf("history grew from %d to %d events with nothing lost: resync re-reported", before, after)
	}

	creates := h.rt.Counts().Creates
	k := h.st.Keys()
	if _, err := etcdCli.Delete(ctx, k.HostID(h.name)); err != nil {
		t.Fatal(err)
	}
	if _, err := etcdCli.Delete(ctx, k.TaskStatuses(h.name), clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	if _, err := etcdCli.Delete(ctx, k.Labels(h.name)); err != nil {
		t.Fatal(err)
	}
	h.eventually("host registered again with its id", func() bool {
		got, err := h.st.HostID(ctx, h.name)
		return err == nil && got == hostID
	})
	h.eventually("task status reported again", func() bool {
		st, ok := h.status(id)
		return ok && st.State == model.StateRunning && st.ContainerID == running.ContainerID
	})
	h.eventually("labels written again", func() bool {
		hs, err := h.st.HostStatus(ctx, h.name)
		return err == nil && hs.Labels["role"] == "test"
	})
	if c := h.rt.Counts().Creates; c != creates {
		t.Fatalf("containers created %d -> %d: re-pushing state must not touch containers", creates, c)
	}
}
