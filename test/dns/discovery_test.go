package dns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	zone     = "example.test"
	leaseTTL = 4 * time.Second // the agents'
	// The job's container serves HTTP only once /tmp/go exists, so the test decides when
	// each instance passes its health check.
	siteScript = "mkdir -p /www && echo ok > /www/index.html && while [ ! -f /tmp/go ]; do sleep 0.1; done; exec httpd -f -p 8080 -h /www"
)

// cluster is the processes of one discovery test around one etcd.
type cluster struct {
	t       *testing.T
	bins    harness.Binaries
	etcd    string
	cli     *clientv3.Client
	st      *store.Store
	dns     *net.Resolver
	dnsAddr string
	masters map[string]*harness.Process
	apis    map[string]string // master name -> host:port
	agents  map[string][]string
	procs   map[string]*harness.Process
}

func (c *cluster) startMaster(name string) {
	c.t.Helper()
	api, ok := c.apis[name]
	if !ok {
		api = fmt.Sprintf("127.0.0.1:%d", harness.FreePort(c.t))
		c.apis[name] = api
	}
	c.masters[name] = harness.Start(c.t, c.bins.Path("helios-master"), "--name", name, "--http", api, "--etcd", c.etcd,
		"--master-lease-ttl", "2s", "--leader-lease-ttl", "2s", "--domain", zone, "--dns-ttl", "1s", "--dns-resync-interval", "1s")
	harness.WaitHTTP(c.t, "http://"+api+"/version", 60*time.Second)
}

func (c *cluster) stopMaster(name string) {
	c.t.Helper()
	c.masters[name].Signal(syscall.SIGTERM)
	if err := c.masters[name].Wait(30 * time.Second); err != nil {
		c.t.Fatalf("master %s: %v", name, err)
	}
}

func (c *cluster) startAgent(host string) {
	c.t.Helper()
	args, ok := c.agents[host]
	if !ok {
		base := 26100 + 100*len(c.agents)
		args = []string{"--name", host, "--etcd", c.etcd, "--state-dir", c.t.TempDir(),
			"--metrics", fmt.Sprintf("127.0.0.1:%d", harness.FreePort(c.t)),
			"--port-range", fmt.Sprintf("%d:%d", base, base+100), "--lease-ttl", leaseTTL.String(), "--resync-interval", "2s",
			"--health-check-interval", "200ms", "--health-check-max-interval", "500ms",
			"--domain", zone, "--advertise-address", "127.0.0.1"}
		c.agents[host] = args
		c.t.Cleanup(func() {
			out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=helios.host="+host).Output()
			if ids := strings.Fields(string(out)); len(ids) > 0 {
				_ = exec.Command("docker", append([]string{"rm", "-f", "-v"}, ids...)...).Run()
			}
		})
	}
	c.procs[host] = harness.Start(c.t, c.bins.Path("helios-agent"), args...)
	c.eventually("host "+host+" up", func() error {
		hs, err := c.st.HostStatus(context.Background(), host)
		if err != nil || hs.Status != model.HostUp {
			return fmt.Errorf("host %s: %v %v", host, hs, err)
		}
		return nil
	})
}

func (c *cluster) eventually(what string, f func() error) {
	c.t.Helper()
	harness.Eventually(c.t, 60*time.Second, func() error {
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// helios runs the CLI with args and returns its output; a failure fails the test.
func (c *cluster) helios(args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bins.Path("helios"), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("helios %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// srv is the ports of the SRV answers for _service._proto.zone, sorted; none when the
// name does not exist. Other failures (a timeout) are errors, never "no records".
func (c *cluster) srv(service, proto string) ([]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, srvs, err := c.dns.LookupSRV(ctx, service, proto, zone)
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ports := make([]int, 0, len(srvs))
	for _, s := range srvs {
		ports = append(ports, int(s.Port))
	}
	sort.Ints(ports)
	return ports, nil
}

// waitSRV waits until the SRV answers are exactly ports.
func (c *cluster) waitSRV(service, proto string, ports ...int) {
	c.t.Helper()
	sort.Ints(ports)
	want := fmt.Sprint(ports)
	c.eventually(fmt.Sprintf("SRV _%s._%s answers %s", service, proto, want), func() error {
		got, err := c.srv(service, proto)
		if err != nil {
			return err
		}
		if fmt.Sprint(got) != want {
			return fmt.Errorf("answers %v", got)
		}
		return nil
	})
}

func (c *cluster) status(host string, id model.JobID) model.TaskStatus {
	c.t.Helper()
	sts, err := c.st.TaskStatuses(context.Background(), host)
	if err != nil {
		c.t.Fatal(err)
	}
	return sts[id]
}

func (c *cluster) waitState(host string, id model.JobID, want model.State) model.TaskStatus {
	c.t.Helper()
	var st model.TaskStatus
	c.eventually(fmt.Sprintf("%s %s on %s", id.Name(), want, host), func() error {
		if st = c.status(host, id); st.State != want {
			return fmt.Errorf("state %s", st.State)
		}
		return nil
	})
	return st
}

func externalPort(t *testing.T, st model.TaskStatus) int {
	t.Helper()
	pm, ok := st.Ports["http"]
	if !ok || pm.ExternalPort == nil {
		t.Fatalf("status without an external http port: %+v", st.Ports)
	}
	return *pm.ExternalPort
}

// endpointLease is the lease the host's endpoints of job are bound to (0: none published).
func (c *cluster) endpointLease(host string, id model.JobID) int64 {
	c.t.Helper()
	resp, err := c.cli.Get(context.Background(), c.st.Keys().Endpoint(host, id))
	if err != nil {
		c.t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return 0
	}
	return resp.Kvs[0].Lease
}

func (c *cluster) masterPorts(names ...string) []int {
	var out []int
	for _, n := range names {
		_, p, _ := net.SplitHostPort(c.apis[n])
		var port int
		fmt.Sscan(p, &port)
		out = append(out, port)
	}
	return out
}

// TestServiceDiscoveryEndToEnd runs two masters, two agents on the local Docker and a real
// CoreDNS over one etcd, and checks every promise of docs/discovery.md over DNS.
func TestServiceDiscoveryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: needs Docker, CoreDNS and the built binaries (run without -short)")
	}
	harness.NeedBusybox(t)
	coredns := harness.CoreDNS(t)
	bins := harness.BuildBinaries(t)
	cli, e := storetest.NewEtcd(t)
	run := harness.RunID(t)
	c := &cluster{t: t, bins: bins, etcd: cli.Endpoints()[0], cli: cli, st: storetest.Open(t, e, store.Config{}),
		masters: map[string]*harness.Process{}, apis: map[string]string{}, agents: map[string][]string{}, procs: map[string]*harness.Process{}}
	c.dnsAddr = harness.StartCoreDNS(t, coredns, zone, c.etcd, "/skydns")
	c.dns = harness.Resolver(c.dnsAddr)
	c.startMaster("m1")
	c.startMaster("m2")
	hostA, hostB := "dns-a-"+run, "dns-b-"+run
	c.startAgent(hostA)
	c.startAgent(hostB)
	m1 := "http://" + c.apis["m1"]

	// A job with a health check, deployed to both agents: no record until it passes.
	c.helios("-z", m1, "create", "site:1", "busybox:latest", "-p", "http=8080", "-r", "website/tcp=http", "--http-check", "http:/",
		"--grace-period", "3", "--", "/bin/sh", "-c", siteScript)
	c.helios("-z", m1, "deploy", "site:1", hostA, hostB)
	id := c.jobID("site")
	stA := c.waitState(hostA, id, model.StateHealthchecking)
	stB := c.waitState(hostB, id, model.StateHealthchecking)
	if got, err := c.srv("website", "tcp"); err != nil || len(got) != 0 {
		t.Fatalf("SRV answers %v, %v while both instances are HEALTHCHECKING; want none", got, err)
	}
	portA, portB := externalPort(t, stA), externalPort(t, stB)

	goAhead := func(st model.TaskStatus) {
		if out, err := exec.Command("docker", "exec", st.ContainerID, "touch", "/tmp/go").CombinedOutput(); err != nil {
			t.Fatalf("docker exec: %v: %s", err, out)
		}
	}
	goAhead(stA)
	c.waitSRV("website", "tcp", portA)
	if st := c.status(hostB, id); st.State != model.StateHealthchecking {
		t.Fatalf("B is %s, want still HEALTHCHECKING when A's record appears", st.State)
	}
	goAhead(stB)
	c.waitSRV("website", "tcp", portA, portB)
	c.waitState(hostB, id, model.StateRunning)

	// The CLI finds the masters through CoreDNS.
	c.waitSRV("helios", "http", c.masterPorts("m1", "m2")...)
	if out := c.helios("-d", zone, "--resolver", c.dnsAddr, "jobs"); !strings.Contains(out, "site:1") {
		t.Fatalf("helios -d %s jobs:\n%s", zone, out)
	}

	// Undeploying B removes its record while its container still runs (the grace period).
	c.helios("-z", m1, "undeploy", "site:1", hostB, "--yes")
	c.waitSRV("website", "tcp", portA)
	if running, err := exec.Command("docker", "inspect", "--format", "{{.State.Running}}", stB.ContainerID).Output(); err != nil ||
		strings.TrimSpace(string(running)) != "true" {
		t.Fatalf("B's container running=%q (%v) when its record was gone; want it still running", running, err)
	}
	c.eventually("B's container removed", func() error {
		if err := exec.Command("docker", "inspect", stB.ContainerID).Run(); err == nil {
			return errors.New("still there")
		}
		return nil
	})

	// A stopped master leaves DNS.
	c.stopMaster("m2")
	c.waitSRV("helios", "http", c.masterPorts("m1")...)

	// SIGKILL and a restart within the lease TTL: the record never goes away.
	oldLease := c.endpointLease(hostA, id)
	if oldLease == 0 {
		t.Fatal("A's endpoints not published")
	}
	watch := c.watchSRV("website", "tcp")
	c.procs[hostA].Signal(syscall.SIGKILL)
	_ = c.procs[hostA].Wait(10 * time.Second)
	c.startAgent(hostA)
	c.eventually("A's endpoints bound to its new lease", func() error {
		if l := c.endpointLease(hostA, id); l == 0 || l == oldLease {
			return fmt.Errorf("lease %x", l)
		}
		return nil
	})
	c.eventually("A's old lease expired", func() error {
		resp, err := cli.TimeToLive(context.Background(), clientv3.LeaseID(oldLease))
		if err != nil || resp.TTL != -1 {
			return fmt.Errorf("TTL %v, %v", resp, err)
		}
		return nil
	})
	c.waitSRV("website", "tcp", portA) // a mirror pass after the expiry
	if lost := watch(); lost != "" {
		t.Fatalf("A's record went away across a SIGKILL and restart within the TTL: %s", lost)
	}

	// With every master stopped, records stay as they are, even those of a dead agent...
	c.stopMaster("m1")
	c.procs[hostA].Signal(syscall.SIGKILL)
	_ = c.procs[hostA].Wait(10 * time.Second)
	c.eventually("A's endpoints gone with its lease", func() error {
		if l := c.endpointLease(hostA, id); l != 0 {
			return fmt.Errorf("still bound to %x", l)
		}
		return nil
	})
	if got, err := c.srv("website", "tcp"); err != nil || fmt.Sprint(got) != fmt.Sprint([]int{portA}) {
		t.Fatalf("with no master, SRV answers %v, %v; want A's record kept", got, err)
	}
	// ...and catch up when a master returns.
	c.startMaster("m1")
	c.waitSRV("website", "tcp")
	c.waitSRV("helios", "http", c.masterPorts("m1")...)

	// The restarted agent adopts its container and publishes it again; a clean stop
	// (its lease revoked) withdraws it at once, and the next start brings it back.
	c.startAgent(hostA)
	c.waitSRV("website", "tcp", portA)
	c.procs[hostA].Signal(syscall.SIGTERM)
	if err := c.procs[hostA].Wait(30 * time.Second); err != nil {
		t.Fatalf("agent A after SIGTERM: %v", err)
	}
	c.waitSRV("website", "tcp")
	c.startAgent(hostA)
	c.waitSRV("website", "tcp", portA)
	if st := c.status(hostA, id); st.ContainerID != stA.ContainerID {
		t.Fatalf("A's container replaced (%s -> %s): the restarts must adopt it", stA.ContainerID, st.ContainerID)
	}

	// SIGKILL with a master up: the record goes within the lease TTL plus a few seconds.
	killed := time.Now()
	c.procs[hostA].Signal(syscall.SIGKILL)
	c.waitSRV("website", "tcp")
	if took := time.Since(killed); took > leaseTTL+8*time.Second {
		t.Fatalf("record of a SIGKILLed agent went after %s; want within the %s lease TTL plus a few seconds", took, leaseTTL)
	} else {
		t.Logf("record of the SIGKILLed agent gone after %s (lease TTL %s)", took.Round(100*time.Millisecond), leaseTTL)
	}
}

// watchSRV polls the SRV answers until the returned func is called, which reports the
// first poll that found no record (failed queries are retried, not counted).
func (c *cluster) watchSRV(service, proto string) func() string {
	stop := make(chan struct{})
	var mu sync.Mutex
	lost := ""
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			got, err := c.srv(service, proto)
			if err == nil && len(got) == 0 {
				mu.Lock()
				if lost == "" {
					lost = "no record at " + time.Now().Format(time.RFC3339Nano)
				}
				mu.Unlock()
			}
		}
	}()
	return func() string {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return lost
	}
}

// jobID is the id of the one job named name.
func (c *cluster) jobID(name string) model.JobID {
	c.t.Helper()
	jobs, err := c.st.ListJobs(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	for id := range jobs {
		if id.Name() == name {
			return id
		}
	}
	c.t.Fatalf("no job %s", name)
	return ""
}
