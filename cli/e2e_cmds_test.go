package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Fatalf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

func TestCreateInspectJobsRemove(t *testing.T) {
	x := newH(t)
	id := strings.TrimSpace(x.ok("create", "-q", "foo:1", "busybox").out)
	if !model.JobID(id).IsFull() || strings.Contains(id, "\n") {
		t.Fatalf("-q printed %q", id)
	}
	r := x.fail("create", "foo:1", "busybox")
	mustContain(t, "stderr", r.err, "JOB_ALREADY_EXISTS")
	r = x.fail("--json", "create", "foo:1", "busybox")
	var cr map[string]any
	decode(t, r.out, &cr)
	if cr["status"] != "JOB_ALREADY_EXISTS" || cr["id"] != id {
		t.Fatalf("json %v", cr)
	}
	r = x.ok("create", "bar:1", "busybox", "--json")
	decode(t, r.out, &cr)
	if cr["status"] != "OK" || !strings.HasPrefix(cr["id"].(string), "bar:1:") {
		t.Fatalf("json %v", cr)
	}
	// The manual's health check example, flags first.
	r = x.ok("create", "--http-check", "http:/healthcheck", "-p", "http=8080", "web:1", "busybox")
	var job model.Job
	decode(t, x.ok("inspect", "web:1", "--json").out, &job)
	if job.HealthCheck == nil || job.HealthCheck.Path != "/healthcheck" || job.Ports["http"].InternalPort != 8080 || job.CreatingUser != "tester" {
		t.Fatalf("job %+v", job)
	}
	// gracePeriod with a static port is refused before reaching the master.
	r = x.fail("create", "gp:1", "busybox", "--grace-period", "10", "-p", "http=80:8080")
	mustContain(t, "stderr", r.err, "INVALID_JOB_DEFINITION", "gracePeriod")
	x.fail("jobs", "gp")

	r = x.ok("inspect", "foo:1")
	mustContain(t, "inspect", r.out, "Id: "+id, "Image: busybox", "Creating user: tester")
	r = x.fail("inspect", "nope")
	if strings.TrimSpace(r.err) != "Unknown job: nope" {
		t.Fatalf("stderr %q", r.err)
	}
	r = x.fail("inspect", "nope", "--json")
	decode(t, r.out, &cr)
	if cr["status"] != "JOB_NOT_FOUND" || cr["message"] != "Unknown job: nope" {
		t.Fatalf("json %v", cr)
	}
	x.ok("create", "foo:2", "busybox")
	r = x.fail("inspect", "foo")
	mustContain(t, "stderr", r.err, "Ambiguous job reference: foo")
	r = x.fail("--json", "inspect", "foo")
	decode(t, r.out, &cr)
	if cr["status"] != "AMBIGUOUS_JOB_REFERENCE" {
		t.Fatalf("json %v", cr)
	}

	r = x.fail("jobs", "nomatch")
	mustContain(t, "stderr", r.err, "job pattern nomatch matched no jobs")
	r = x.ok("jobs", "-q")
	if got := strings.Fields(r.out); len(got) != 4 || got[1] != id {
		t.Fatalf("jobs -q %q", got)
	}
	var jobs map[string]model.Job
	decode(t, x.ok("jobs", "foo", "--json").out, &jobs)
	if len(jobs) != 2 {
		t.Fatalf("jobs --json %v", jobs)
	}
	wantText(t, x.ok("jobs", "foo:1", "-f").out, "JOB ID NAME VERSION HOSTS COMMAND ENVIRONMENT\n"+id+" foo 1 0")

	x.stdin = "n\n"
	r = x.fail("remove", "foo:1")
	mustContain(t, "stdout", r.out, "Do you want to continue? [y/N]")
	x.ok("inspect", id)
	x.stdin = "y\n"
	r = x.ok("remove", "foo:1")
	mustContain(t, "stdout", r.out, "This will remove the job "+id+"\nDo you want to continue? [y/N]\nRemoving job "+id+"\n"+id+": done\n")
	x.fail("inspect", id)
	x.stdin = ""
	r = x.ok("remove", "--json", "bar:1", "--yes")
	decode(t, r.out, &cr)
	if cr["status"] != "OK" {
		t.Fatalf("remove json %v", cr)
	}
}

func TestDeployUndeployStartStopAndTokens(t *testing.T) {
	x := newH(t)
	id := strings.TrimSpace(x.ok("create", "-q", "--token", "abc", "tok:1", "busybox").out)
	x.ok("register", "web1.example.com", "id1")
	x.ok("register", "web2.example.com", "id2")

	r := x.fail("deploy", "tok:1", "web1")
	wantText(t, r.out, "Deploying "+id+"|START on [web1.example.com]\nweb1.example.com: failed: FORBIDDEN (wrong token for job "+id+")")
	r = x.ok("deploy", "tok:1", "web1", "web2.example.com", "--token", "abc")
	mustContain(t, "deploy", r.out, "web1.example.com: done", "web2.example.com: done")
	r = x.fail("deploy", "--json", "--token", "abc", "tok:1", "web1")
	var res []map[string]any
	decode(t, r.out, &res)
	if len(res) != 1 || res[0]["status"] != "JOB_ALREADY_DEPLOYED" || res[0]["host"] != "web1.example.com" {
		t.Fatalf("json %v", res)
	}
	r = x.fail("deploy", "tok:1", "web")
	mustContain(t, "stderr", r.err, "ambiguous host reference web")
	// --watch has nothing to follow when no host took the deployment.
	r = x.fail("deploy", "tok:1", "web1", "--watch", "--token", "abc")
	mustContain(t, "stdout", r.out, "web1.example.com: failed: JOB_ALREADY_DEPLOYED")
	if strings.Contains(r.out, "Waiting for") {
		t.Fatalf("deploy --watch waited on a host that refused the deployment:\n%s", r.out)
	}

	r = x.ok("stop", "tok:1", "web1", "--token", "abc")
	wantText(t, r.out, "Stopping "+id+" on [web1.example.com]\nweb1.example.com: done")
	r = x.ok("status", "--job", "tok", "-f")
	wantText(t, r.out, `JOB ID HOST GOAL STATE CONTAINER ID PORTS
`+id+` web1.example.com STOP
`+id+` web2.example.com START`)
	r = x.ok("status", "--host", "web2")
	wantText(t, r.out, "JOB ID HOST GOAL STATE CONTAINER ID PORTS\n"+model.JobID(id).Short()+" web2 START")
	var st map[string]model.JobStatus
	decode(t, x.ok("status", "--json", "--job", "tok:1").out, &st)
	if len(st[id].Deployments) != 2 {
		t.Fatalf("status json %+v", st)
	}
	r = x.fail("status", "--job", "nope")
	mustContain(t, "stderr", r.err, `job id matcher "nope" matched no jobs`)
	x.ok("start", "tok:1", "web1", "--token", "abc")

	r = x.fail("undeploy", "tok:1")
	mustContain(t, "undeploy without hosts", r.err, "Please either specify a list of hosts or use the -a/--all flag.")
	r = x.fail("undeploy", "tok:1", "web1")
	mustContain(t, "undeploy", r.out, "web1.example.com: failed: FORBIDDEN (wrong token for job "+id+")")
	r = x.fail("undeploy", "tok:1", "--all", "--yes")
	mustContain(t, "undeploy --all without a token", r.out,
		"web1.example.com: failed: FORBIDDEN (wrong token for job "+id+")",
		"web2.example.com: failed: FORBIDDEN (wrong token for job "+id+")")
	x.stdin = "no\n"
	r = x.fail("undeploy", "--token", "abc", "-a", "tok:1")
	mustContain(t, "undeploy answered no", r.err, "Aborted: not undeploying "+id)
	x.stdin = ""
	r = x.ok("undeploy", "tok:1", "--all", "--yes", "--token", "abc")
	mustContain(t, "undeploy", r.out, "web1.example.com: done", "web2.example.com: done")
	r = x.ok("undeploy", "tok:1", "--all", "--yes", "--token", "abc")
	mustContain(t, "undeploy", r.out, "is not currently deployed on any hosts")
	r = x.fail("remove", "tok:1", "--yes")
	mustContain(t, "remove without a token", r.out, id+": failed: FORBIDDEN (wrong token for job "+id+")")
	x.ok("remove", "tok:1", "--yes", "--token", "abc")
}

func TestHostsRegisterDeregister(t *testing.T) {
	x := newH(t)
	x.ok("register", "h1", "id1")
	r := x.ok("--json", "register", "h2", "id2")
	var resp map[string]any
	decode(t, r.out, &resp)
	if resp["status"] != "OK" || resp["host"] != "h2" {
		t.Fatalf("register json %v", resp)
	}
	r = x.ok("hosts")
	// The leader notes when it sees a host DOWN; whether it got to these two yet is timing.
	downFor := regexp.MustCompile(`Down \d+ \w+`)
	wantText(t, downFor.ReplaceAllString(r.out, "Down"), "HOST STATUS DEPLOYED RUNNING CPUS MEM LOAD AVG MEM USAGE OS HELIOS DOCKER LABELS\nh1 Down 0 0\nh2 Down 0 0")
	if got := strings.Fields(x.ok("hosts", "-q").out); len(got) != 2 {
		t.Fatalf("hosts -q %q", got)
	}
	var hs map[string]model.HostStatus
	decode(t, x.ok("hosts", "--json").out, &hs)
	if hs["h1"].Status != model.HostDown {
		t.Fatalf("hosts json %+v", hs)
	}
	if got := strings.TrimSpace(x.ok("hosts", "--status", "UP", "-q").out); got != "" {
		t.Fatalf("UP hosts %q", got)
	}
	r = x.fail("hosts", "zzz")
	mustContain(t, "stderr", r.err, "host pattern zzz matched no hosts")
	r = x.fail("hosts", "-s", "bogus")
	mustContain(t, "stderr", r.err, `"bogus"`)
	r = x.fail("hosts", "--json", "-s", "a in (b")
	decode(t, r.out, &resp)
	if resp["status"] != "INVALID_ARGUMENTS" {
		t.Fatalf("json %v", resp)
	}
	r = x.fail("hosts", "-s", "role=web", "-q")
	if strings.TrimSpace(r.out) != "" || strings.TrimSpace(r.err) != "host selectors [role=web] matched no hosts" {
		t.Fatalf("selector matched unlabelled hosts: %q %q", r.out, r.err)
	}
	r = x.ok("accept-restore", "h1")
	wantText(t, r.out, "Accepting the restored desired state of h1\nh1: done")
	r = x.fail("accept-restore", "h3")
	mustContain(t, "accept-restore", r.out, "h3: failed: NOT_FOUND (host h3 not found)")
	x.fail("accept-restore")
	r = x.fail("accept-restore", "h1", "--all")
	mustContain(t, "accept-restore h1 --all", r.err, "name hosts or give --all, not both")
	r = x.ok("accept-restore", "--all")
	wantText(t, r.out, "Accepting the restored desired state of h1\nh1: done\nAccepting the restored desired state of h2\nh2: done")
	r = x.ok("deregister", "h1", "--yes")
	wantText(t, r.out, "Deregistering host h1\nh1: done")
	x.stdin = "y\n"
	r = x.ok("unregister", "h2")
	mustContain(t, "unregister", r.out, "Do you want to continue? [y/N]", "h2: done")
	r = x.fail("deregister", "h3", "--yes")
	mustContain(t, "deregister", r.out, "h3: failed: NOT_FOUND (host h3 not found)")
	// With every host gone, --all says there is nothing to accept.
	r = x.ok("accept-restore", "--all")
	if strings.TrimSpace(r.out) != "" || !strings.Contains(r.err, "no hosts are registered") {
		t.Fatalf("accept-restore --all with no hosts: stdout %q, stderr %q", r.out, r.err)
	}
}

func TestMastersVersionAndGlobalErrors(t *testing.T) {
	x := newH(t)
	// The master lists itself once its lease is written.
	var r result
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r = x.ok("masters")
		if strings.TrimSpace(r.out) == "test-master" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("masters %q", r.out)
		}
	}
	var names []string
	decode(t, x.ok("masters", "--json").out, &names)
	if len(names) != 1 || names[0] != "test-master" {
		t.Fatalf("masters --json = %q, want [test-master]", names)
	}
	r = x.ok("whoami")
	mustContain(t, "whoami without authentication", r.out, "not authenticated: this master has no authentication configured")
	r = x.ok("version")
	wantText(t, r.out, "Client Version: "+model.Version+"\nMaster Version: "+model.Version)
	var v map[string]string
	decode(t, x.ok("version", "--json").out, &v)
	if v["client"] != model.Version || v["master"] != model.Version {
		t.Fatalf("version json %v", v)
	}
	r = x.ok("--version")
	mustContain(t, "--version", r.out, "Client Version: "+model.Version)

	// No master at all.
	r = x.runRaw("jobs")
	// The original's message, then a hint naming helios-solo's address and HELIOS_MASTER.
	if first, hint, _ := strings.Cut(r.err, "\n"); r.code != 1 || first != "no masters specified.  Use the -z or -d option to specify which helios cluster/master to connect to" ||
		!strings.Contains(hint, "helios-solo listens on http://127.0.0.1:5801") || !strings.Contains(hint, "export HELIOS_MASTER=http://127.0.0.1:5801") {
		t.Fatalf("no masters: %d %q", r.code, r.err)
	}
	// With --json the hint is a field of the error object.
	r = x.runRaw("--json", "jobs")
	var noMasters map[string]string
	decode(t, r.out, &noMasters)
	if !strings.HasPrefix(noMasters["message"], "no masters specified.") || !strings.Contains(noMasters["hint"], "export HELIOS_MASTER=") {
		t.Fatalf("no masters, --json: %q", r.out)
	}
	// HELIOS_MASTER and ~/.helios/config find it.
	x.env["HELIOS_MASTER"] = x.m.URL
	if r = x.runRaw("masters"); r.code != 0 {
		t.Fatalf("HELIOS_MASTER: %d %s", r.code, r.err)
	}
	delete(x.env, "HELIOS_MASTER")
	cfg := filepath.Join(x.env["HOME"], ".helios", "config")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(`{"masterEndpoints":["`+x.m.URL+`"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r = x.runRaw("masters"); r.code != 0 {
		t.Fatalf("config file: %d %s", r.code, r.err)
	}
	// An unreachable master fails after the retry timeout, in text and JSON.
	r = x.runRaw("-z", "http://127.0.0.1:1", "--retry-timeout", "1", "version", "--json")
	decode(t, r.out, &v)
	if r.code != 1 || v["client"] != model.Version || v["status"] != "MASTER_UNAVAILABLE" {
		t.Fatalf("unreachable: %d %v", r.code, v)
	}
	// Bad flags.
	r = x.fail("jobs", "--bogus")
	mustContain(t, "stderr", r.err, "flag provided but not defined: -bogus")
	r = x.fail("jobs", "--bogus", "--json")
	var e map[string]any
	decode(t, r.out, &e)
	if e["status"] != "INVALID_ARGUMENTS" {
		t.Fatalf("json %v", e)
	}
	r = x.fail("create", "foo:1", "busybox", "-p", "http=notaport")
	mustContain(t, "stderr", r.err, `invalid port mapping "http=notaport"`)
	r = x.ok("help", "deploy")
	mustContain(t, "help", r.out, "helios deploy testjob:1 192.168.33.10")
}

func TestFlagsBeforeOrAfterPositionalsGiveSameResult(t *testing.T) {
	x := newH(t)
	a := strings.TrimSpace(x.ok("create", "same:1", "busybox", "--env", "A=x,y", "-p", "http=80", "-r", "web", "-q", "--", "sh", "-c", "echo hi").out)
	x.ok("remove", "same:1", "--yes")
	b := strings.TrimSpace(x.ok("create", "-q", "--env", "A=x,y", "-p", "http=80", "-r", "web", "same:1", "busybox", "--", "sh", "-c", "echo hi").out)
	if a != b {
		t.Fatalf("ids differ: %s vs %s", a, b)
	}
	var job model.Job
	decode(t, x.ok("inspect", "--json", "same:1").out, &job)
	if job.Env["A"] != "x,y" || job.Registration["web/tcp"].Ports == nil || strings.Join(job.Command, "|") != "sh|-c|echo hi" {
		t.Fatalf("job %+v", job)
	}
	x.ok("register", "hx", "idx")
	out1 := x.ok("deploy", "same:1", "hx", "--json").out
	x.ok("undeploy", "--json", "same:1", "hx")
	out2 := x.ok("--json", "deploy", "same:1", "hx").out
	if out1 != out2 {
		t.Fatalf("deploy outputs differ:\n%s\n%s", out1, out2)
	}
}

// The manual's "All Helios Job Options" example, as printed: refused for its past expires,
// its gracePeriod with static ports and its capabilities; fixed, accepted field for field.
func TestCreateFromManualJobFile(t *testing.T) {
	x := newH(t)
	manual := `{
  "addCapabilities" : [ "IPC_LOCK", "SYSLOG" ],
  "dropCapabilities" : [ "SYS_BOOT", "KILL" ],
  "command" : [ "server", "serverconfig.yaml" ],
  "env" : { "JVM_ARGS" : "-Ddw.feature.randomFeatureFlagEnabled=true" },
  "expires" : "2014-06-01T12:00:00Z",
  "gracePeriod": 60,
  "healthCheck" : { "type" : "http", "path" : "/healthcheck", "port" : "http-admin" },
  "id" : "myservice:0.5:3539b7bc2235d53f79e6e8511942bbeaa8816265",
  "image" : "myregistry:80/janedoe/myservice:0.5-98c6ff4",
  "hostname": "myhost",
  "metadata": { "foo": "bar" },
  "networkMode" : "bridge",
  "ports" : {
    "http" : { "externalPort" : 8080, "internalPort" : 8080, "protocol" : "tcp" },
    "http-admin" : { "externalPort" : 8081, "internalPort" : 8081, "ip" : "127.0.0.1", "protocol" : "tcp" }
  },
  "ramdisks": { "/mount/point/in/container": "mount-options" },
  "registration" : { "fooservice/http" : { "ports" : { "http" : { } } } },
  "registrationDomain" : "",
  "resources" : { "memory" : 10485760, "memorySwap" : 10485760, "cpuset" : "0", "cpuShares" : 512 },
  "rolloutOptions": { "migrate": false, "parallelism": 2, "timeout": 1000, "overlap": true, "token": "insecure-access-token", "ignoreFailures": false },
  "secondsToWaitBeforeKill": 120,
  "securityOpt" : [ "label:user:USER", "apparmor:PROFILE" ],
  "token": "insecure-access-token",
  "runtime": "nvidia",
  "volumes" : { "/destination/path/in/container.yaml:ro" : "/source/path/in/host.yaml" },
  "someNewField": 1
}`
	dir := t.TempDir()
	path := filepath.Join(dir, "job.json")
	if err := os.WriteFile(path, []byte(manual), 0o644); err != nil {
		t.Fatal(err)
	}
	r := x.fail("create", "-f", path)
	mustContain(t, "stderr", r.err, "someNewField", "expires", "gracePeriod", "IPC_LOCK")
	x.fail("jobs", "myservice")

	fixed := strings.NewReplacer(`"2014-06-01T12:00:00Z"`, `"2099-06-01T12:00:00Z"`, `"gracePeriod": 60,`, ``,
		`"addCapabilities" : [ "IPC_LOCK", "SYSLOG" ],`, ``, `"mount-options"`, `"rw,size=64m"`).Replace(manual)
	if err := os.WriteFile(path, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	x.env["GIT_COMMIT"] = "abc123"
	// The manual's ramdisk options are a placeholder with no size=: the master's default job
	// policy refuses a ramdisk without a size (it could take half the host's memory).
	if err := os.WriteFile(path, []byte(strings.Replace(fixed, `"rw,size=64m"`, `"mount-options"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "stderr", x.fail("create", "-f", path).err, `ramdisks "/mount/point/in/container"`, "no size=")
	if err := os.WriteFile(path, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	r = x.ok("create", "-f", path, "--env", "EXTRA=1")
	id := model.JobID(lastLine(r.out))
	if id.Name() != "myservice" || id.Version() != "0.5" || id.Hash() == "3539b7bc2235d53f79e6e8511942bbeaa8816265" {
		t.Fatalf("id %s", id)
	}
	var job model.Job
	decode(t, x.ok("inspect", "--json", string(id)).out, &job)
	if job.Image != "myregistry:80/janedoe/myservice:0.5-98c6ff4" || job.Hostname != "myhost" || job.Env["JVM_ARGS"] == "" ||
		job.Env["EXTRA"] != "1" || job.Metadata["foo"] != "bar" || job.Metadata["GIT_COMMIT"] != "abc123" ||
		job.Ports["http-admin"].IP != "127.0.0.1" || job.Ramdisks["/mount/point/in/container"] != "rw,size=64m" ||
		job.Resources == nil || *job.Resources.CPUShares != 512 || job.RolloutOptions == nil || *job.RolloutOptions.Parallelism != 2 ||
		job.Runtime != "nvidia" || job.Token != "insecure-access-token" || len(job.SecurityOpt) != 2 || len(job.DropCapabilities) != 2 ||
		job.Volumes["/destination/path/in/container.yaml:ro"] != "/source/path/in/host.yaml" || job.Expires == nil ||
		job.HealthCheck == nil || job.HealthCheck.Port != "http-admin" || len(job.Registration) != 1 || job.NetworkMode != "bridge" ||
		job.SecondsToWaitBeforeKill == nil || *job.SecondsToWaitBeforeKill != 120 {
		t.Fatalf("job not accepted field for field: %+v", job)
	}
	// -t template: a new version of the same job, flags winning.
	r = x.ok("create", "-t", string(id), "myservice:0.6", "--hostname", "other")
	var job2 model.Job
	decode(t, x.ok("inspect", "--json", "myservice:0.6").out, &job2)
	if job2.Hostname != "other" || job2.Image != job.Image || job2.Runtime != "nvidia" {
		t.Fatalf("template job %+v", job2)
	}
}
