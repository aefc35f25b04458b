package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/test/harness"
)

// documentedMetrics are the full metric names docs/operations.md and docs/agent.md list
// (shorthands such as `_exits_total` or `helios_store_etcd_*` are spelt out elsewhere).
func documentedMetrics(t *testing.T) []string {
	t.Helper()
	re := regexp.MustCompile("`(helios_[a-z_]*[a-z])[`{]")
	seen := map[string]bool{}
	for _, doc := range []string{"docs/operations.md", "docs/agent.md"} {
		b, err := os.ReadFile(filepath.Join(harness.ModuleRoot(t), doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 15 {
		t.Fatalf("found only %d metric names in the docs: %v", len(names), names)
	}
	return names
}

// Every metric the docs name is on /metrics from the start, before its first event: alert
// rules see a zero, not an absent series.
func TestFreshSoloExposesEveryDocumentedMetric(t *testing.T) {
	needBinaries(t)
	bins := harness.BuildBinaries(t)
	args, master := soloArgs(t, "solo-metrics-"+harness.RunID(t))
	harness.Start(t, bins.Path("helios-solo"), append(args, "--fake-runtime", "--agent-metrics", "")...)
	names := documentedMetrics(t)
	harness.Eventually(t, 60*time.Second, func() error {
		resp, err := http.Get(master + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var missing []string
		for _, n := range names {
			if !regexp.MustCompile(`(?m)^` + n + `(_bucket|_count|_sum)?[{ ]`).Match(body) {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("not on /metrics: %s", strings.Join(missing, ", "))
		}
		return nil
	})
}
