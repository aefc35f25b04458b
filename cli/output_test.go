package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0 seconds", time.Second: "1 second", 59 * time.Second: "59 seconds", 29 * time.Minute: "29 minutes",
		time.Hour: "1 hour", 3*time.Hour + 59*time.Minute: "3 hours", 49 * time.Hour: "2 days",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestHostRowGolden(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	st := model.HostStatus{
		Status:   model.HostUp,
		Jobs:     map[model.JobID]model.Deployment{"a:1:x": {}, "b:1:y": {}},
		Statuses: map[model.JobID]model.TaskStatus{"a:1:x": {State: model.StateRunning}, "b:1:y": {State: model.StateExited}},
		HostInfo: &model.HostInfo{CPUs: 4, MemoryTotalBytes: 1 << 30, MemoryFreeBytes: 655 << 20, LoadAvg: 0.004,
			OSName: "Linux", OSVersion: "3.15.3-tinycore64", DockerVersion: &model.DockerVersion{Version: "1.1.2", APIVersion: "1.13"}},
		AgentInfo: &model.AgentInfo{Version: "0.0.33", StartTime: now.Add(-29 * time.Minute).UnixMilli()},
		Labels:    map[string]string{"role": "web", "dc": "x"},
	}
	got := hostRow("192.168.33.10", st, false, now)
	want := []string{"192.168.33.10", "Up 29 minutes", "2", "1", "4", "1 gb", "0.00", "0.36", "Linux 3.15.3-tinycore64", "0.0.33", "1.1.2 (1.13)", "dc=x, role=web"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("row\n got %q\nwant %q", got, want)
	}
	down := model.HostStatus{Status: model.HostDown, DownSince: now.Add(-3 * time.Hour).UnixMilli()}
	if got := hostRow("web1.example.com", down, false, now); got[0] != "web1" || got[1] != "Down 3 hours" || len(got) != 12 {
		t.Fatalf("down row %q", got)
	}
}

func TestTableGolden(t *testing.T) {
	var b bytes.Buffer
	tb := newTable(&b, "JOB ID", "HOST", "GOAL")
	tb.row("foo:1:abcdef0", "h1", "START")
	tb.row("x", "longer-host", "")
	_ = tb.flush()
	want := "JOB ID           HOST           GOAL\nfoo:1:abcdef0    h1             START\nx                longer-host    \n"
	if b.String() != want {
		t.Fatalf("table\n%q\nwant\n%q", b.String(), want)
	}
}

func TestCellFormatting(t *testing.T) {
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"/bin/sh", "-c", "while true; do date; done"}, `/bin/sh -c "while true; do date; done"`},
		// As the original: only white space makes a word quoted; nothing is escaped.
		{[]string{"echo", "$FOO", `a"b`}, `echo $FOO a"b`},
		{[]string{"echo", "tab\there"}, `echo "tab` + "\t" + `here"`},
		{nil, ""},
	} {
		if got := quoteCommand(tc.cmd); got != tc.want {
			t.Errorf("quoteCommand(%q) = %q, want %q", tc.cmd, got, tc.want)
		}
	}
	ext := 30000
	if got := formatPorts(map[string]model.PortMapping{"http": {InternalPort: 80, ExternalPort: &ext}, "dns": {InternalPort: 53, Protocol: "udp"}}); got != "dns=53:? http=80:30000" {
		t.Errorf("formatPorts %q", got)
	}
	if got := stateText(model.TaskStatus{State: model.StateExited, Throttled: model.ThrottleFlapping}); got != "EXITED (FLAPPING)" {
		t.Errorf("stateText %q", got)
	}
	if shortContainerID("", false) != "<none>" || shortContainerID("0123456789abcdef", false) != "0123456789ab" ||
		shortContainerID("0123456789abcdef", true) != "0123456789abcdef" {
		t.Errorf("shortContainerID")
	}
	if got := truncate("0123456789abcdef", statusContainerIDLen, false); got != "0123456" {
		t.Errorf("status container id %q", got)
	}
}

func TestSortJobIDsByNameVersionHash(t *testing.T) {
	for _, tc := range []struct{ in, want []model.JobID }{
		{[]model.JobID{"hc2:1:aaa", "hc:1:bbb"}, []model.JobID{"hc:1:bbb", "hc2:1:aaa"}},
		{[]model.JobID{"web:2:aaa", "web:10:aaa", "web:1.5:aaa"}, []model.JobID{"web:1.5:aaa", "web:10:aaa", "web:2:aaa"}},
		{[]model.JobID{"a:1:ccc", "a:1:bbb", "a-b:1:aaa", "a:1-x:aaa"}, []model.JobID{"a:1:bbb", "a:1:ccc", "a:1-x:aaa", "a-b:1:aaa"}},
		{nil, nil},
	} {
		got := append([]model.JobID(nil), tc.in...)
		sortJobIDs(got)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("sortJobIDs(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
