package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

func TestParsePending(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     int    // ops parsed
		err      string // part of the error; "" for none
	}{
		{"empty queue", `{"ops":[]}`, 0, ""},
		{"a status and a deletion", `{"ops":[{"job":"a:1:abc","status":{"state":"RUNNING"},"at":"2026-01-02T03:04:05.000000007Z"},{"job":"a:1:abc","delete":true}]}`, 2, ""},
		{"not json", `{"ops":`, 0, "unexpected end"},
		{"job id with a slash", `{"ops":[{"job":"a/b","status":{"state":"RUNNING"},"at":"2026-01-02T03:04:05Z"}]}`, 0, "queued write 0"},
		{"status without a state", `{"ops":[{"job":"a:1:abc","status":{},"at":"2026-01-02T03:04:05Z"}]}`, 0, "no state"},
		{"status without a time", `{"ops":[{"job":"a:1:abc","status":{"state":"EXITED"}}]}`, 0, "no time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := parsePending([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil || len(ops) != tc.want {
				t.Fatalf("%d ops, error %v; want %d ops", len(ops), err, tc.want)
			}
		})
	}
}

func TestPendingKeepsNanosecondsThroughTheFile(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 1, 2, 3, 4, 5, 7, time.UTC)
	disk := pendingDisk{Ops: []pendingOpDisk{{Job: "a:1:abc", Status: model.TaskStatus{State: model.StateRunning}, At: at}}}
	if err := writePending(dir, disk); err != nil {
		t.Fatal(err)
	}
	ops, err := loadPending(dir)
	if err != nil || len(ops) != 1 || !ops[0].at.Equal(at) {
		t.Fatalf("loaded %+v, %v; want one op at %v", ops, err, at)
	}
	if err := writePending(dir, pendingDisk{}); err != nil {
		t.Fatal(err)
	}
	if ops, err := loadPending(dir); err != nil || ops != nil {
		t.Errorf("after an empty queue: %+v, %v; want no file", ops, err)
	}
}

func FuzzParsePending(f *testing.F) {
	f.Add([]byte(`{"ops":[{"job":"a:1:abc","status":{"state":"RUNNING"},"at":"2026-01-02T03:04:05Z"}]}`))
	f.Add([]byte(`{"ops":[{"job":"a:1:abc","delete":true}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ops, err := parsePending(b)
		if err != nil {
			return
		}
		for _, op := range ops {
			if op.job == "" || (!op.delete && (op.status.State == "" || op.at.IsZero())) {
				t.Fatalf("accepted an op that cannot be written: %+v", op)
			}
		}
	})
}

func TestPendingDropsATasksOldestBeyondItsLimit(t *testing.T) {
	a := &Agent{log: zap.NewNop()}
	at := time.Now()
	a.enqueueLocked(pendingOp{job: "other", status: model.TaskStatus{State: model.StateRunning}, at: at})
	for i := range maxPendingPerTask + 5 {
		a.enqueueLocked(pendingOp{job: "busy", status: model.TaskStatus{State: model.StateRunning}, at: at.Add(time.Duration(i + 1))})
	}
	if len(a.pending) != maxPendingPerTask+1 || a.pending[0].job != "other" {
		t.Fatalf("%d queued, first %s; want %d with the other task's write kept", len(a.pending), a.pending[0].job, maxPendingPerTask+1)
	}
	if first := a.pending[1].at; !first.Equal(at.Add(6)) {
		t.Errorf("busy task's oldest kept is at +%v, want +6ns (the 5 oldest dropped)", first.Sub(at))
	}
	if a.pendingDropped["busy"] != 5 {
		t.Errorf("dropped count %d, want 5", a.pendingDropped["busy"])
	}
}
