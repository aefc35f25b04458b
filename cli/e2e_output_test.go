package cli_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// The hosts table of an UP host with agent and host info, and of a DOWN one, as the
// original prints them: "Up 29 minutes", MEM in whole gb, %.2f, "os version",
// "docker (api)", labels "k=v, k=v"; sorted by host name.
func TestHostsTableWithAgentInfoGolden(t *testing.T) {
	x := newH(t)
	ctx := context.Background()
	// The master's leader records when a registered host is seen down, at its first sweep
	// and then every 30 s; a-down must be registered after that first sweep to show the
	// original's "Down <since the agent was last seen>". A probe host tells when it ran.
	x.ok("register", "probe", "id-probe")
	x.eventually(30*time.Second, "the leader's first sweep for down hosts", func() bool {
		hs, err := x.m.Store.HostStatus(ctx, "probe")
		return err == nil && hs.DownSince != 0
	})
	x.ok("deregister", "probe", "--yes")
	id := model.JobID(strings.TrimSpace(x.ok("create", "-q", "web:1", "busybox").out))
	x.ok("register", "b-up.example.com", "id-b")
	x.ok("register", "a-down", "id-a")
	x.ok("deploy", "web:1", "b-up.example.com")
	if err := x.m.Store.SetTaskStatus(ctx, "b-up.example.com", id, model.TaskStatus{Goal: model.GoalStart, State: model.StateRunning, Throttled: model.ThrottleNo}, true); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	info := model.HostInfo{Hostname: "b-up", CPUs: 4, MemoryTotalBytes: 1<<30 + 900<<20, MemoryFreeBytes: 1 << 30, LoadAvg: 0.004,
		OSName: "Linux", OSVersion: "3.15.3-tinycore64", DockerVersion: &model.DockerVersion{Version: "1.1.2", APIVersion: "1.13"}}
	agent := model.AgentInfo{Name: "b-up", Version: "0.0.33", StartTime: now.Add(-29*time.Minute - 20*time.Second).UnixMilli()}
	if err := x.m.Store.PutHostInfo(ctx, "b-up.example.com", info, agent); err != nil {
		t.Fatal(err)
	}
	if err := x.m.Store.PutHostLabels(ctx, "b-up.example.com", map[string]string{"role": "web", "dc": "x"}); err != nil {
		t.Fatal(err)
	}
	lease, err := x.m.Etcd.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.m.Store.PutUp(ctx, "b-up.example.com", store.LeaseID(lease.ID)); err != nil {
		t.Fatal(err)
	}
	// The DOWN host's agent started 5 h ago and was last seen after 2 h of uptime.
	down := model.AgentInfo{Name: "a-down", Version: "0.0.32", StartTime: now.Add(-5*time.Hour - time.Minute).UnixMilli(), Uptime: (2 * time.Hour).Milliseconds()}
	if err := x.m.Store.PutHostInfo(ctx, "a-down", model.HostInfo{Hostname: "a-down", CPUs: 2, MemoryTotalBytes: 3 << 30}, down); err != nil {
		t.Fatal(err)
	}

	r := x.ok("hosts")
	wantText(t, r.out, `HOST STATUS DEPLOYED RUNNING CPUS MEM LOAD AVG MEM USAGE OS HELIOS DOCKER LABELS
a-down Down 3 hours 0 0 2 3 gb 0.00 1.00 0.0.32
b-up Up 29 minutes 1 1 4 1 gb 0.00 0.47 Linux 3.15.3-tinycore64 0.0.33 1.1.2 (1.13) dc=x, role=web`)
	r = x.ok("hosts", "-f", "--status", "UP")
	wantText(t, r.out, `HOST STATUS DEPLOYED RUNNING CPUS MEM LOAD AVG MEM USAGE OS HELIOS DOCKER LABELS
b-up.example.com Up 29 minutes 1 1 4 1 gb 0.00 0.47 Linux 3.15.3-tinycore64 0.0.33 1.1.2 (1.13) dc=x, role=web`)
	r = x.ok("hosts", "-s", "role=web", "-q")
	if strings.TrimSpace(r.out) != "b-up.example.com" {
		t.Fatalf("hosts -s role=web -q: %q", r.out)
	}
	if got := strings.Fields(x.ok("hosts", "-q").out); len(got) != 2 || got[0] != "a-down" {
		t.Fatalf("hosts -q must be sorted: %q", got)
	}
	var hs map[string]model.HostStatus
	decode(t, x.ok("hosts", "--json", "b-up").out, &hs)
	if st := hs["b-up.example.com"]; st.Status != model.HostUp || st.HostInfo == nil || st.AgentInfo == nil || st.AgentInfo.Version != "0.0.33" {
		t.Fatalf("hosts --json %+v", hs)
	}
}

// An empty cluster, a pattern and selectors that match nothing all fail, in text and JSON.
func TestHostsMatchingNothingFails(t *testing.T) {
	x := newH(t)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{nil, "no hosts are registered"},
		{[]string{"zzz"}, "host pattern zzz matched no hosts"},
		{[]string{"-s", "role=web"}, "host selectors [role=web] matched no hosts"},
		{[]string{"zzz", "-s", "a=b", "-s", "c!=d"}, "host pattern zzz and selectors [a=b, c!=d] matched no hosts"},
	} {
		r := x.fail(append([]string{"hosts"}, tc.args...)...)
		if r.out != "" || strings.TrimSpace(r.err) != tc.msg {
			t.Errorf("hosts %v: stdout %q stderr %q, want %q", tc.args, r.out, r.err, tc.msg)
		}
		r = x.fail(append([]string{"hosts", "--json"}, tc.args...)...)
		var e map[string]string
		decode(t, r.out, &e)
		if e["status"] != model.StatusHostNotFound || e["message"] != tc.msg {
			t.Errorf("hosts --json %v: %v", tc.args, e)
		}
	}
	x.ok("register", "h1", "id1")
	x.fail("hosts", "-s", "role=web")
	x.ok("hosts", "h")
}

// The status table: STATE with the throttle reason, 7 characters of container id, PORTS
// as name=internal:external, jobs deployed nowhere without rows; and the history table.
func TestStatusAndHistoryTablesGolden(t *testing.T) {
	x := newH(t)
	ctx := context.Background()
	id := model.JobID(strings.TrimSpace(x.ok("create", "-q", "-p", "http=80:30000", "-p", "dns=53/udp", "web:1", "busybox").out))
	idle := model.JobID(strings.TrimSpace(x.ok("create", "-q", "idle:1", "busybox").out))
	x.ok("register", "h1.example.com", "id1")
	x.ok("register", "h2.example.com", "id2")
	x.ok("deploy", "web:1", "h1", "h2")
	ext := 30000
	dnsExt := 20001
	for _, st := range []model.TaskStatus{
		{Goal: model.GoalStart, State: model.StatePullingImage, Throttled: model.ThrottleNo},
		{Goal: model.GoalStart, State: model.StateExited, ContainerID: "0123456789abcdef0123", Throttled: model.ThrottleFlapping,
			Ports: map[string]model.PortMapping{"http": {InternalPort: 80, ExternalPort: &ext}, "dns": {InternalPort: 53, ExternalPort: &dnsExt, Protocol: "udp"}}},
	} {
		if err := x.m.Store.SetTaskStatus(ctx, "h1.example.com", id, st, true); err != nil {
			t.Fatal(err)
		}
	}
	r := x.ok("status")
	wantText(t, r.out, `JOB ID HOST GOAL STATE CONTAINER ID PORTS
`+id.Short()+` h1 START EXITED (FLAPPING) 0123456 dns=53:20001 http=80:30000
`+id.Short()+` h2 START`)
	if strings.Contains(r.out, idle.Short()) {
		t.Fatalf("a job deployed nowhere has no row:\n%s", r.out)
	}
	r = x.ok("status", "-f", "--host", "h1")
	wantText(t, r.out, `JOB ID HOST GOAL STATE CONTAINER ID PORTS
`+string(id)+` h1.example.com START EXITED (FLAPPING) 0123456789abcdef0123 dns=53:20001 http=80:30000`)
	r = x.fail("status", "--host", "nohost")
	if strings.TrimSpace(r.err) != "There are no jobs deployed to hosts with the host pattern 'nohost'\nRun 'helios hosts nohost' to check your host exists and is up." {
		t.Fatalf("status --host nohost: %q", r.err)
	}
	var st map[model.JobID]model.JobStatus
	decode(t, x.ok("status", "--json", "--host", "h2").out, &st)
	if len(st) != 1 || len(st[id].Deployments) != 1 || st[id].Job == nil {
		t.Fatalf("status --json --host h2: %+v", st)
	}

	r = x.ok("history", "web:1")
	rows := strings.Split(strings.TrimSpace(r.out), "\n")
	rowRE := regexp.MustCompile(`^h1\.example\.com (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (\S+) (\S+) (\S+)$`)
	want := [][3]string{{"PULLING_IMAGE", "NO", "<none>"}, {"EXITED", "FLAPPING", "0123456789ab"}}
	if len(rows) != 3 || norm(rows[0]) != "HOST TIMESTAMP STATE THROTTLED CONTAINERID" {
		t.Fatalf("history:\n%s", r.out)
	}
	for i, w := range want {
		m := rowRE.FindStringSubmatch(norm(rows[i+1]))
		if m == nil || m[2] != w[0] || m[3] != w[1] || m[4] != w[2] {
			t.Fatalf("history row %q, want %v", rows[i+1], w)
		}
		ts, err := time.ParseInLocation("2006-01-02 15:04:05.000", m[1], time.UTC)
		if err != nil || time.Since(ts) > time.Minute || time.Since(ts) < -time.Minute {
			t.Fatalf("history timestamp %q is not now in TZ=UTC: %v", m[1], err)
		}
	}
	r = x.ok("history", "web:1", "-f")
	mustContain(t, "history -f", r.out, "0123456789abcdef0123")
	var ev model.TaskStatusEvents
	decode(t, x.ok("history", "--json", "web").out, &ev)
	if len(ev.Events) != 2 || ev.Events[1].Status.Throttled != model.ThrottleFlapping {
		t.Fatalf("history --json %+v", ev)
	}
	decode(t, x.ok("history", "--json", "idle").out, &ev)
	if ev.Events == nil || len(ev.Events) != 0 {
		t.Fatalf("empty history --json must be an empty list: %+v", ev)
	}
}

// inspect prints the original's fields, words and layout.
func TestInspectGolden(t *testing.T) {
	x := newH(t)
	x.env["GIT_COMMIT"] = "abc123"
	id := strings.TrimSpace(x.ok("create", "-q", "svc:2", "registry:80/team/svc:2",
		"--env", "B=two words", "--env", "A=1", "-p", "http=8080", "-p", "admin=127.0.0.1:8081/udp",
		"-r", "svc/http=http", "--http-check", "http:/healthcheck", "--volume", "/data:/var/data:ro", "--volume", "/cache",
		"--token", "tok", "--network-mode", "bridge", "--security-opt", "label:user:U", "--security-opt", "apparmor:P",
		"--drop-capability", "KILL", "--drop-capability", "SYS_BOOT", "--runtime", "nvidia",
		"--rollout-options", "timeout=250", "--rollout-options", "parallelism=2", "--grace-period", "10",
		"-e", "2099-06-01T12:00:00Z", "--hostname", "myhost", "-m", "team=core",
		"--", "server", "--config", "a b.yaml").out)
	r := x.ok("inspect", "svc")
	lines := strings.Split(r.out, "\n")
	if !strings.HasPrefix(lines[2], "Created: ") || !regexp.MustCompile(`^Created: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000$`).MatchString(lines[2]) {
		t.Fatalf("Created line %q", lines[2])
	}
	lines[2] = "Created: -"
	want := `Id: ` + id + `
Image: registry:80/team/svc:2
Created: -
Expires: Mon, 1 Jun 2099 12:00:00 +0000
Hostname: myhost
Command: [server, --config, "a b.yaml"]
Env:   A=1
       B="two words"
Health check: type: http, port: http, path: /healthcheck
Grace period (seconds): 10
Time to wait before kill (seconds): 
Metadata: GIT_COMMIT=abc123
          team=core
Ports: admin=127.0.0.1:8081/udp
       http=8080/tcp
Reg: svc/http=http
Security options: [label:user:U, apparmor:P]
Network mode: bridge
Token: tok
Volumes: /cache
         /data:/var/data:ro
Add capabilities: 
Drop capabilities: KILL, SYS_BOOT
Runtime: nvidia
Rollout options (null options will fallback to defaults at rolling-update time): timeout: 250, parallelism: 2
Creating user: tester
Registration domain: 
Labels: 
Ramdisks: 
Resources: 
`
	if got := strings.Join(lines, "\n"); got != want {
		t.Fatalf("inspect:\n%s\nwant:\n%s", got, want)
	}
}

// Every failure exits 1 and, with --json, prints one JSON object with a status word on
// stdout: bad global and command flags, unknown and missing commands, no masters.
func TestJSONOnEveryErrorPath(t *testing.T) {
	x := newH(t)
	for _, tc := range []struct {
		args   []string
		status string
		raw    bool // without the test's -z
	}{
		{[]string{"--json", "--retry-timeout", "x", "jobs"}, "INVALID_ARGUMENTS", false},
		{[]string{"jobs", "--json", "--bogus"}, "INVALID_ARGUMENTS", false},
		{[]string{"--json", "nosuchcommand"}, "INVALID_ARGUMENTS", false},
		{[]string{"--json"}, "INVALID_ARGUMENTS", false},
		{[]string{"--json", "jobs"}, "MASTER_UNAVAILABLE", true},
		{[]string{"--json", "inspect"}, "INVALID_ARGUMENTS", false},
		{[]string{"--json", "inspect", "nope"}, "JOB_NOT_FOUND", false},
		{[]string{"--json", "deploy", "nope"}, "INVALID_ARGUMENTS", false},
		{[]string{"--json", "hosts", "--status", "SIDEWAYS"}, "INVALID_ARGUMENTS", false},
		{[]string{"--json", "create", "bad name:1", "busybox"}, "INVALID_ARGUMENTS", false},
		{[]string{"--json", "-z", "ftp://x", "jobs"}, "MASTER_UNAVAILABLE", true},
	} {
		var r result
		if tc.raw {
			r = x.runRaw(tc.args...)
		} else {
			r = x.run(tc.args...)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(r.out), &e); err != nil || r.code != 1 || e["status"] != tc.status || e["message"] == "" {
			t.Errorf("helios %s: exit %d, stdout %q (%v), stderr %q; want status %s", strings.Join(tc.args, " "), r.code, r.out, err, r.err, tc.status)
		}
	}
	// Without --json the same failures are one line on stderr and exit 1.
	r := x.run("nosuchcommand")
	if r.code != 1 || r.out != "" || !strings.Contains(r.err, `unknown command "nosuchcommand"`) {
		t.Fatalf("unknown command: %d %q %q", r.code, r.out, r.err)
	}
	r = x.runRaw()
	if r.code != 1 || !strings.Contains(r.out, "COMMANDS:") {
		t.Fatalf("no command: the help, then exit 1: %d %q %q", r.code, r.out, r.err)
	}
}

// -v logs each request on stderr; stdout stays the command's output.
func TestVerboseLogsRequests(t *testing.T) {
	x := newH(t)
	r := x.ok("-v", "masters")
	if !regexp.MustCompile(`(?m)^GET http://127\.0\.0\.1:\d+/masters\?user=tester -> 200 \(\d+ms\)$`).MatchString(r.err) || strings.Contains(r.out, "GET") {
		t.Fatalf("-v: stdout %q stderr %q", r.out, r.err)
	}
	r = x.ok("masters", "-vv")
	if !strings.Contains(r.err, "GET ") {
		t.Fatalf("-vv after the command: %q", r.err)
	}
	if r = x.ok("masters"); r.err != "" {
		t.Fatalf("no -v, no log: %q", r.err)
	}
}

// `helios --help` lists every command and `helios help <command>` shows an example of it.
func TestHelpListsCommandsWithExamples(t *testing.T) {
	x := newH(t)
	top := x.ok("--help").out
	for _, cmd := range []string{"create", "inspect", "jobs", "remove", "deploy", "undeploy", "start", "stop", "status",
		"history", "hosts", "register", "deregister", "masters", "version"} {
		if !regexp.MustCompile(`(?m)^\s+` + cmd + `[ ,]`).MatchString(top) {
			t.Errorf("--help does not list %s", cmd)
		}
		help := x.ok("help", cmd).out
		if !regexp.MustCompile(`(?m)^\s+helios ` + cmd + ` \S`).MatchString(help) {
			t.Errorf("help %s has no example:\n%s", cmd, help)
		}
	}
	mustContain(t, "help unregister", x.ok("help", "unregister").out, "helios deregister")
}

// Several -z masters are several clusters: the command runs against each in turn.
func TestSeveralMastersAreSeveralClusters(t *testing.T) {
	x := newH(t)
	x.ok("register", "h1", "id1")
	r := x.runRaw("-z", x.m.URL, "-z", x.m.URL+"/", "hosts", "-q")
	head := x.m.URL + " ([" + x.m.URL + "])"
	if r.code != 0 || !strings.HasPrefix(r.out, head+"\n"+strings.Repeat("-", len(head))+"\nh1\n\n") || strings.Count(r.out, "\nh1\n") != 2 {
		t.Fatalf("two clusters: %d\n%s\n%s", r.code, r.out, r.err)
	}
}
