package agent

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestActionsMetricStartsAtZeroForEveryReason(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := newMetrics(reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "helios_agent_actions_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if v := m.GetCounter().GetValue(); v != 0 {
				t.Errorf("%v = %v at start", l, v)
			}
			if reasonKinds[reason(l["reason"])] != actionKind(l["action"]) {
				t.Errorf("series %v pairs a reason with the wrong action", l)
			}
			seen[l["reason"]] = true
		}
	}
	for r := range reasonKinds {
		if !seen[string(r)] {
			t.Errorf("no series for reason %q", r)
		}
	}
}
