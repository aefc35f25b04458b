package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
)

// The demo cluster, in its default secured layout, survives the loss of one master and
// one etcd member: the CLI, given the three masters comma-separated with the cluster's CA
// and the admin token `make cluster` made, still creates, deploys and reports status, and
// the job deployed before the failures keeps running in the same container. The masters
// refuse requests without a token and plain HTTP; etcd refuses clients without credentials
// and peers without a certificate of the cluster's CA. Its members share a JWT key pair:
// one accepts another's tokens, the killed member too once it has restarted, and no
// agent is refused its token.
func TestMakeClusterSurvivesAMasterAndAnEtcdMember(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds an image and starts nine containers (run without -short)")
	}
	harness.NeedBusybox(t)
	bins := harness.BuildBinaries(t)
	root := harness.ModuleRoot(t)
	id := harness.RunID(t)
	name := "helios-ct-" + id
	// A /24 of its own per run, so a demo cluster (10.213.77.0/24) or another run can coexist.
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	netPrefix := fmt.Sprintf("10.214.%d", 10+h.Sum32()%240)
	dir := filepath.Join(t.TempDir(), name)
	vars := []string{
		"CLUSTER=" + name, "IMAGE=helios-ct:" + id, "CLUSTER_IMAGE=helios-ct-cluster:" + id,
		"BIN=" + t.TempDir(), "CLUSTER_DIR=" + dir, "CLUSTER_NET=" + netPrefix,
		"CLUSTER_METRICS_BASE=" + strconv.Itoa(harness.FreePort(t)),
	}
	t.Cleanup(func() {
		if out, err := command(root, "make", append([]string{"cluster-down"}, vars...)...); err != nil {
			t.Errorf("make cluster-down: %v\n%s", err, out)
		}
		_, _ = command("", "docker", "rmi", "-f", "helios-ct-cluster:"+id, "helios-ct:"+id)
	})
	started := time.Now()
	if out, err := command(root, "make", append([]string{"cluster"}, vars...)...); err != nil {
		t.Fatalf("make cluster: %v\n%s", err, out)
	}

	masters := fmt.Sprintf("https://%[1]s.21:5801,https://%[1]s.22:5801,https://%[1]s.23:5801", netPrefix)
	caFile := filepath.Join(dir, "pki", "ca.pem")
	token := strings.TrimSpace(readFile(t, filepath.Join(dir, "admin.token")))
	cli := func(args ...string) (string, error) {
		return command("", bins.Path("helios"), append([]string{"-z", masters, "--cacert", caFile, "--auth-token", token}, args...)...)
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := cli(args...)
		if err != nil {
			t.Fatalf("helios %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	agent := func(i int) string { return fmt.Sprintf("%s-agent-%d", name, i) }
	harness.Eventually(t, 90*time.Second, func() error {
		out, err := cli("hosts")
		if err != nil || strings.Count(out, " Up ") != 3 {
			return fmt.Errorf("not three hosts Up (err %v):\n%s", err, out)
		}
		return nil
	})
	running := func(job, host string) {
		t.Helper()
		harness.Eventually(t, 90*time.Second, func() error {
			out, err := cli("status", "--job", job, "--host", host)
			if err != nil || !strings.Contains(out, "RUNNING") {
				return fmt.Errorf("%s not RUNNING on %s (err %v):\n%s", job, host, err, out)
			}
			return nil
		})
	}
	checkSecrets(t, dir)
	refusesStrangers(t, netPrefix, dir)
	etcdToken := tokensCrossMembers(t, netPrefix, dir)

	loop := []string{"busybox:latest", "--", "/bin/sh", "-c", "while true; do sleep 1; done"}
	must(append([]string{"create", "before:1"}, loop...)...)
	must("deploy", "before:1", agent(1))
	running("before:1", agent(1))
	before := containerOf(t, agent(1), "before:1")

	for _, victim := range []string{name + "-master-1", name + "-etcd-1"} {
		if out, err := command("", "docker", "kill", victim); err != nil {
			t.Fatalf("docker kill %s: %v\n%s", victim, err, out)
		}
	}
	// One master of -z is gone: a request that starts there must move on to another.
	must(append([]string{"create", "after:1"}, loop...)...)
	must("deploy", "after:1", agent(2))
	running("after:1", agent(2))
	running("before:1", agent(1))
	if id := containerOf(t, agent(1), "before:1"); id != before {
		t.Fatalf("before:1 runs in %s after the failures, want the same container %s", id, before)
	}
	if out, _ := command("", "docker", "inspect", "-f", "{{.State.Running}}", before); strings.TrimSpace(out) != "true" {
		t.Fatalf("before:1's container %s is not running: %s", before, out)
	}
	noTokenRefused(t, []string{agent(1), agent(2), agent(3)}, started)
	tokenSurvivesRestart(t, netPrefix, dir, name+"-etcd-1", etcdToken)

	// cluster-down removes what the cluster made, the jobs' containers included, and nothing
	// remains labelled with it.
	if out, err := command(root, "make", append([]string{"cluster-down"}, vars...)...); err != nil {
		t.Fatalf("make cluster-down: %v\n%s", err, out)
	}
	for _, list := range [][]string{
		{"ps", "-aq", "--filter", "label=helios.cluster=" + name},
		{"ps", "-aq", "--filter", "id=" + before},
		{"network", "ls", "-q", "--filter", "label=helios.cluster=" + name},
	} {
		if out, err := command("", "docker", list...); err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("after make cluster-down, docker %s: %q (err %v), want nothing", strings.Join(list, " "), out, err)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after make cluster-down, %s: %v; want it removed with its secrets", dir, err)
	}
}

// containerOf is the one container the agent host started for job (name:version).
func containerOf(t *testing.T, host, job string) string {
	t.Helper()
	out, err := command("", "docker", "ps", "-a", "--no-trunc", "--filter", "label=helios.host="+host,
		"--format", `{{.ID}} {{.Label "helios.job-id"}}`)
	if err != nil {
		t.Fatalf("docker ps: %v\n%s", err, out)
	}
	var ids []string
	for _, line := range strings.Split(out, "\n") {
		if cid, jobID, ok := strings.Cut(strings.TrimSpace(line), " "); ok && strings.HasPrefix(jobID, job+":") {
			ids = append(ids, cid)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("containers of %s on %s: %v, want exactly 1", job, host, ids)
	}
	return ids[0]
}

// command runs name with a generous deadline and returns its combined output.
func command(dir, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
