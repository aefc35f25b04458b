package deploy

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

// metricName finds the Helios metric names a rule or query reads. Recording rules are named
// helios:..., so they are not taken for metrics.
var metricName = regexp.MustCompile(`\bhelios_[a-z0-9_]*[a-z0-9]`)

// usedMetrics are the Helios metric names the rules and the dashboard read, each with the
// file that reads it.
func usedMetrics(t *testing.T) map[string]string {
	t.Helper()
	used := map[string]string{}
	rules, err := os.ReadFile(filepath.Join(harness.ModuleRoot(t), "deploy", "prometheus", "helios-rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range metricName.FindAllString(string(rules), -1) {
		used[n] = "deploy/prometheus/helios-rules.yml"
	}
	for expr := range dashboardExprs(t) {
		for _, n := range metricName.FindAllString(expr, -1) {
			used[n] = "deploy/grafana/helios.json"
		}
	}
	if len(used) < 15 {
		t.Fatalf("only %d metric names found in the rules and the dashboard: %v", len(used), used)
	}
	return used
}

// Every metric the rules and the dashboard read is one the code exposes: a fresh
// helios-solo (master and agent, the agent's metrics on the API port) is scraped, and each
// name must be a sample on it (histograms by their _bucket, _count and _sum).
func TestRulesAndDashboardReadOnlyExposedMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: starts helios-solo (run without -short)")
	}
	used := usedMetrics(t)
	bins := harness.BuildBinaries(t)
	dir := t.TempDir()
	api := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	harness.Start(t, bins.Path("helios-solo"),
		"--name", "deploy-metrics-"+harness.RunID(t),
		"--http", api,
		"--data-dir", dir+"/etcd",
		"--state-dir", dir+"/agent",
		"--etcd-client-url", fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(t)),
		"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", harness.FreePort(t)),
		"--fake-runtime", "--agent-metrics", "")
	harness.Eventually(t, 60*time.Second, func() error {
		resp, err := http.Get("http://" + api + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		exposed := map[string]bool{}
		for _, line := range strings.Split(string(body), "\n") {
			if line == "" || line[0] == '#' {
				continue
			}
			exposed[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
		}
		var missing []string
		for n, file := range used {
			if !exposed[n] {
				missing = append(missing, n+" ("+file+")")
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			return fmt.Errorf("read but not exposed by helios-solo: %s", strings.Join(missing, ", "))
		}
		return nil
	})
}
