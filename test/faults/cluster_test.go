package faults

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Timings of the processes under test: short, so that faults show within seconds.
const (
	leaseTTL    = "2s" // an agent cut off shows DOWN this long after its last keepalive
	resync      = "2s"
	etcdTimeout = 2 * time.Second // --etcd-timeout of masters and agents
)

// cluster is a real etcd (embedded in the test, so it can compact and be inspected), one
// helios-master process on it, and the agents the test starts.
type cluster struct {
	t      *testing.T
	bins   harness.Binaries
	etcd   *clientv3.Client
	etcdEP string
	master string // URL of the master's API
	// agentEtcdTimeout, when set, is the agents' --etcd-timeout instead of etcdTimeout.
	agentEtcdTimeout time.Duration
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("fault test: starts etcd, a master, agents and containers (run without -short)")
	}
	harness.NeedBusybox(t)
	bins := harness.BuildBinaries(t)
	cli, embed := storetest.NewEtcd(t)
	c := &cluster{t: t, bins: bins, etcd: cli, etcdEP: embed.Endpoints()[0]}
	c.master = c.startMaster("fault-master", c.etcdEP)
	return c
}

// startMaster starts a helios-master process on the etcd endpoints and returns its URL.
func (c *cluster) startMaster(name string, endpoints ...string) string {
	c.t.Helper()
	url, _ := c.startMasterProcess(name, endpoints...)
	return url
}

// startMasterProcess is startMaster that returns the process too.
func (c *cluster) startMasterProcess(name string, endpoints ...string) (string, *harness.Process) {
	c.t.Helper()
	api := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(c.t))
	args := []string{"--http", api, "--name", name, "--master-lease-ttl", "2s",
		"--etcd-timeout", etcdTimeout.String()}
	for _, e := range endpoints {
		args = append(args, "--etcd", e)
	}
	p := harness.Start(c.t, c.bins.Path("helios-master"), args...)
	url := "http://" + api
	harness.WaitHTTP(c.t, url+"/version", 60*time.Second)
	return url, p
}

// startAgent starts a helios-agent process named host on etcdEP, with the suite's timings
// unless resyncEvery is set; its containers are removed when the test ends.
func (c *cluster) startAgent(host, etcdEP string, resyncEvery ...string) *harness.Process {
	c.t.Helper()
	c.startAgentCleanup(host)
	every := resync
	if len(resyncEvery) > 0 {
		every = resyncEvery[0]
	}
	timeout := etcdTimeout
	if c.agentEtcdTimeout > 0 {
		timeout = c.agentEtcdTimeout
	}
	return harness.Start(c.t, c.bins.Path("helios-agent"),
		"--name", host,
		"--etcd", etcdEP,
		"--state-dir", c.t.TempDir(),
		"--lease-ttl", leaseTTL,
		"--resync-interval", every,
		"--etcd-timeout", timeout.String(),
		"--metrics", "",
	)
}

// startAgentCleanup removes host's containers when the test ends.
func (c *cluster) startAgentCleanup(host string) {
	c.t.Cleanup(func() {
		if ids := c.containers(host, ""); len(ids) > 0 {
			_ = exec.Command("docker", append([]string{"rm", "-f", "-v"}, ids...)...).Run()
		}
	})
}

// helios runs the CLI against the master and returns its stdout; a failure fails the test.
func (c *cluster) helios(args ...string) string {
	c.t.Helper()
	out, code := c.heliosCode(append([]string{"-z", c.master}, args...)...)
	if code != 0 {
		c.t.Fatalf("helios %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// heliosCode runs the CLI with exactly args and returns its combined output and exit code.
func (c *cluster) heliosCode(args ...string) (string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, c.bins.Path("helios"), args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		c.t.Fatalf("helios %s: %v", strings.Join(args, " "), err)
	}
	return string(out), 0
}

// hostStatus is the STATUS column of `helios hosts` for host: "Up ...", "Down ...".
func (c *cluster) hostStatus(host string) string {
	c.t.Helper()
	out, _ := c.heliosCode("-z", c.master, "hosts", host) // not registered yet: no row
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == host {
			return f[1]
		}
	}
	return ""
}

func (c *cluster) waitHost(host, want string, timeout time.Duration) time.Duration {
	c.t.Helper()
	start := time.Now()
	harness.Eventually(c.t, timeout, func() error {
		if got := c.hostStatus(host); got != want {
			return fmt.Errorf("host %s is %q, want %s", host, got, want)
		}
		return nil
	})
	return time.Since(start)
}

// deploy creates job (a busybox loop) and deploys it on host.
func (c *cluster) deploy(job, host string) {
	c.t.Helper()
	if _, code := c.heliosCode("-z", c.master, "inspect", job); code != 0 {
		c.helios("create", job, "busybox:latest", "--", "/bin/sh", "-c", "while true; do sleep 1; done")
	}
	c.helios("deploy", job, host)
}

// containers lists the full ids of host's containers of job (name:version; "" for all).
func (c *cluster) containers(host, job string) []string {
	out, err := exec.Command("docker", "ps", "-a", "--no-trunc", "--filter", "label=helios.host="+host,
		"--format", `{{.ID}} {{.Label "helios.job-id"}}`).Output()
	if err != nil {
		c.t.Errorf("docker ps: %v", err)
		return nil
	}
	var ids []string
	for _, line := range strings.Split(string(out), "\n") {
		if id, jobID, ok := strings.Cut(strings.TrimSpace(line), " "); ok && (job == "" || strings.HasPrefix(jobID, job+":")) {
			ids = append(ids, id)
		}
	}
	return ids
}

// running is the one running container of job on host, "" while there is none.
func (c *cluster) running(host, job string) string {
	for _, id := range c.containers(host, job) {
		if inspect(c.t, "{{.State.Running}}", id) == "true" {
			return id
		}
	}
	return ""
}

// waitRunning waits until the status of every job on host is RUNNING in a container that
// docker runs too (the master's view and the engine's agree), and returns the ids.
func (c *cluster) waitRunning(host string, timeout time.Duration, jobs ...string) map[string]string {
	c.t.Helper()
	ids := map[string]string{}
	harness.Eventually(c.t, timeout, func() error {
		out := c.helios("status", "--host", host, "-f")
		for _, job := range jobs {
			id := c.running(host, job)
			if id == "" {
				return fmt.Errorf("no running container of %s on %s", job, host)
			}
			if !statusRow(out, job, "RUNNING", id) {
				return fmt.Errorf("%s not RUNNING in %s per the master:\n%s", job, id[:12], out)
			}
			ids[job] = id
		}
		if n := strings.Count(out, "RUNNING"); n != len(jobs) {
			return fmt.Errorf("%d RUNNING statuses, want %d:\n%s", n, len(jobs), out)
		}
		return nil
	})
	return ids
}

// statusRow tells whether `helios status -f` output has a row of job in state with container id.
func statusRow(out, job, state, id string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, job+":") && strings.Contains(line, state) && strings.Contains(line, id[:12]) {
			return true
		}
	}
	return false
}

func inspect(t testing.TB, format, id string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "--format", format, id).CombinedOutput()
	if err != nil {
		return "" // removed meanwhile
	}
	return strings.TrimSpace(string(out))
}

// loneEtcd is the single etcd member under a fault test, stopped and started again on the
// same URLs (and data dir, unless the test points cfg.DataDir elsewhere, as a restore does).
type loneEtcd struct {
	t   *testing.T
	cfg store.EmbedConfig
	run *store.Embedded
}

// startLoneCluster starts a one-member etcd named name and the test's cluster on it (a
// client of the etcd; no master or agent yet).
func startLoneCluster(t *testing.T, name string) (*cluster, *loneEtcd) {
	t.Helper()
	bins := harness.BuildBinaries(t)
	e := &loneEtcd{t: t, cfg: harness.EtcdMembers(t, name, 1)[0]}
	e.start()
	t.Cleanup(func() { e.run.Close() })
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.cfg.ClientURL}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return &cluster{t: t, bins: bins, etcd: cli, etcdEP: e.cfg.ClientURL}, e
}

func (e *loneEtcd) start() {
	e.t.Helper()
	run, err := store.StartEmbedded(context.Background(), e.cfg)
	if err != nil {
		e.t.Fatalf("start etcd %s on %s: %v", e.cfg.Name, e.cfg.DataDir, err)
	}
	e.run = run
}

func (e *loneEtcd) stop() { e.run.Close() }
