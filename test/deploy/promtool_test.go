package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-go/helios/test/harness"
)

// promtool is the path of Debian's promtool (package prometheus; .ci/run installs it). Its
// absence skips, or fails under HELIOS_REQUIRE_DOCKER=1 or CI, where the rules must be
// checked.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set and promtool is missing (apt-get install prometheus): %v", err)
	}
	harness.Missing(t, "promtool is not installed (apt-get install prometheus)")
	return ""
}

// run runs a command in dir and fails the test with its output when it fails.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The shipped rules are valid, their unit tests pass, and the example configuration loads them.
func TestPrometheusRulesPassPromtool(t *testing.T) {
	bin := promtool(t)
	dir := filepath.Join(harness.ModuleRoot(t), "deploy", "prometheus")
	out := run(t, dir, bin, "check", "rules", "helios-rules.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool check rules:\n%s", out)
	}
	run(t, dir, bin, "test", "rules", "helios-rules.test.yml")
	run(t, dir, bin, "check", "config", "prometheus.yml")
}

// Every alert of the issue is there, with a summary and a severity.
func TestEveryPromisedAlertIsShipped(t *testing.T) {
	rules, err := os.ReadFile(filepath.Join(harness.ModuleRoot(t), "deploy", "prometheus", "helios-rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(harness.ModuleRoot(t), "deploy", "prometheus", "helios-rules.test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"HeliosAgentDown", "HeliosTaskFlapping", "HeliosImageMissing", "HeliosRolloutFailed",
		"HeliosNoControllerLeader", "HeliosEtcdUnavailable"} {
		if !strings.Contains(string(rules), "- alert: "+name+"\n") {
			t.Errorf("helios-rules.yml has no alert %s", name)
		}
		// A unit test that expects it to fire names it with expected alerts.
		if !strings.Contains(string(tests), "alertname: "+name+"\n        eval_time:") {
			t.Errorf("helios-rules.test.yml never expects %s to fire", name)
		}
	}
}

// dashboard is the part of a Grafana dashboard this test reads.
type dashboard struct {
	Title  string  `json:"title"`
	UID    string  `json:"uid"`
	Panels []panel `json:"panels"`
}

type panel struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(harness.ModuleRoot(t), "deploy", "grafana", "helios.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("deploy/grafana/helios.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) < 10 {
		t.Fatalf("deploy/grafana/helios.json: title %q, uid %q, %d panels", d.Title, d.UID, len(d.Panels))
	}
	return d
}

// dashboardExprs are the PromQL queries of the dashboard's panels, each with its panel.
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	exprs := map[string]string{}
	for _, p := range readDashboard(t).Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs[tg.Expr] = p.Title
		}
	}
	return exprs
}

// Every query of the dashboard is valid PromQL: promtool parses them as recording rules,
// Grafana's $__rate_interval read as 5m.
func TestDashboardQueriesParse(t *testing.T) {
	bin := promtool(t)
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	i := 0
	for expr := range dashboardExprs(t) {
		q, _ := json.Marshal(strings.ReplaceAll(expr, "$__rate_interval", "5m"))
		fmt.Fprintf(&b, "      - record: dashboard:query_%d\n        expr: %s\n", i, q)
		i++
	}
	file := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, filepath.Dir(file), bin, "check", "rules", file)
}
