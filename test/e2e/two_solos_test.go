package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/test/harness"
	"github.com/helios-go/helios/test/testimage"
)

// TestTwoSolosShareAnEngineAndAHostName runs two helios-solo side by side on one Docker
// engine, as the README says one can, with the same --name: each its own --data-dir (so its
// own etcd and, by default, its own agent state dir), addresses and port range. Each deploys
// a job both deploy (same job id) and one of its own, then both run for a minute with a
// resync every second. No container may be lost: the ids stay the same on both sides, no
// other container appears, and neither agent stops, removes or starts anything more.
func TestTwoSolosShareAnEngineAndAHostName(t *testing.T) {
	needDocker(t)
	needTestImage(t)
	bins := harness.BuildBinaries(t)
	host := "twin-" + harness.RunID(t)
	removeHostContainers(t, host)

	type solo struct {
		master, dataDir string
		proc            *harness.Process
		jobs            []model.JobID
		want            map[model.JobID]string // container id of each job
	}
	solos := make([]*solo, 2)
	for i := range solos {
		api := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
		s := &solo{master: "http://" + api, dataDir: t.TempDir(), want: map[model.JobID]string{}}
		s.proc = harness.Start(t, bins.Path("helios-solo"),
			"--name", host,
			"--data-dir", s.dataDir,
			"--http", api,
			"--etcd-client-url", fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(t)),
			"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(t)),
			"--port-range", fmt.Sprintf("%d:%d", 24300+100*i, 24400+100*i),
			"--lease-ttl", "2s",
			"--resync-interval", "1s",
		)
		solos[i] = s
	}
	for i, s := range solos {
		harness.WaitHTTP(t, s.master+"/version", 60*time.Second)
		harness.Eventually(t, 30*time.Second, func() error {
			if out, _ := heliosCode(t, bins, s.master, "hosts", host); !strings.Contains(out, "Up ") {
				return errorf("solo %d: host %s not up yet:\n%s", i, host, out)
			}
			return nil
		})
		if _, err := os.Stat(filepath.Join(s.dataDir, "agent", "lock")); err != nil {
			t.Fatalf("solo %d: agent state dir not under --data-dir: %v", i, err)
		}
		for _, name := range []string{"shared:1", fmt.Sprintf("own%d:1", i)} {
			out := helios(t, bins, s.master, "create", name, testimage.Tag)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			id := model.JobID(lines[len(lines)-1])
			helios(t, bins, s.master, "deploy", string(id), host)
			s.jobs = append(s.jobs, id)
		}
	}
	if solos[0].jobs[0] != solos[1].jobs[0] {
		t.Fatalf("shared job ids differ: %s, %s", solos[0].jobs[0], solos[1].jobs[0])
	}
	for i, s := range solos {
		for _, id := range s.jobs {
			harness.Eventually(t, 60*time.Second, func() error {
				st, err := taskStatus(s.master, id, host)
				if err != nil || st.State != model.StateRunning {
					return errorf("solo %d, %s: %+v %v", i, id, st.State, err)
				}
				s.want[id] = st.ContainerID
				return nil
			})
		}
	}
	var all []string
	for _, s := range solos {
		for _, c := range s.want {
			all = append(all, c)
		}
	}
	slices.Sort(all)
	if len(slices.Compact(slices.Clone(all))) != 4 {
		t.Fatalf("container ids %v, want 4 distinct", all)
	}

	// For a minute, and at least 30 resyncs of each agent, every check must hold.
	startResyncs := make([]float64, len(solos))
	for i, s := range solos {
		startResyncs[i] = reconciles(t, s.master)
	}
	begin := time.Now()
	for {
		if got := hostContainers(t, host); !slices.Equal(sorted(got), all) {
			t.Fatalf("after %v: containers of %s on the engine %v, want %v", time.Since(begin).Round(time.Second), host, sorted(got), all)
		}
		for i, s := range solos {
			for _, id := range s.jobs {
				st, err := taskStatus(s.master, id, host)
				if err != nil {
					t.Fatalf("solo %d: %v", i, err)
				}
				if st.State != model.StateRunning || st.ContainerID != s.want[id] {
					t.Fatalf("after %v: solo %d, %s: %s in %s, want RUNNING in %s", time.Since(begin).Round(time.Second), i, id, st.State, st.ContainerID, s.want[id])
				}
			}
		}
		done := time.Since(begin) >= time.Minute
		for i, s := range solos {
			if reconciles(t, s.master) < startResyncs[i]+30 {
				done = false
			}
		}
		if done {
			break
		}
		if time.Since(begin) > 3*time.Minute {
			t.Fatal("the agents did not make 30 resyncs each within 3 minutes")
		}
		time.Sleep(time.Second) // the polling period, not a synchronisation
	}

	for i, s := range solos {
		out := s.proc.Output()
		if strings.Contains(out, `"action":"remove"`) || strings.Contains(out, `"action":"stop"`) {
			t.Errorf("solo %d removed or stopped a container:\n%s", i, out)
		}
		if n := strings.Count(out, `"action":"start"`); n != 2 {
			t.Errorf("solo %d applied %d starts, want 2 (its two jobs)", i, n)
		}
		for _, id := range s.jobs {
			got := historyStates(helios(t, bins, s.master, "history", string(id)), host)
			if !slices.Equal(got, []string{"CREATING", "STARTING", "RUNNING"}) {
				t.Errorf("solo %d, %s: history %v, want CREATING STARTING RUNNING", i, id, got)
			}
		}
	}
}

// taskStatus is the job's task status on host, as the master's REST API tells it.
func taskStatus(master string, id model.JobID, host string) (model.TaskStatus, error) {
	resp, err := http.Get(master + "/jobs/" + string(id) + "/status")
	if err != nil {
		return model.TaskStatus{}, err
	}
	defer resp.Body.Close()
	var js model.JobStatus
	if err := json.NewDecoder(resp.Body).Decode(&js); err != nil {
		return model.TaskStatus{}, fmt.Errorf("job status of %s: %w", id, err)
	}
	return js.TaskStatuses[host], nil
}

// reconciles is helios_agent_reconcile_total{result="ok"} on the solo's /metrics.
func reconciles(t *testing.T, master string) float64 {
	t.Helper()
	resp, err := http.Get(master + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, `helios_agent_reconcile_total{result="ok"} `); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no helios_agent_reconcile_total{result=\"ok\"} on %s/metrics", master)
	return 0
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
