package bench

import (
	"fmt"
	"strings"
	"time"
)

// overhead is the median of the paired differences a[i]-b[i]: the rows take turns, so a
// pair shares the machine's load at that moment.
func overhead(a, b []time.Duration) time.Duration {
	n := min(len(a), len(b))
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = a[i] - b[i]
	}
	return median(d)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// report logs the table docs/benchmarks.md keeps and reports each figure as a metric.
func (lb *latencyBench) report(rows map[string][]time.Duration, swarmSkip string, heliosBurst, runBurst time.Duration) {
	b := lb.b
	var t strings.Builder
	fmt.Fprintf(&t, "deploy → StartedAt, median of %d runs (ms):\n", latencyRuns)
	for _, r := range []struct{ key, unit, what string }{
		{"helios", "ms-helios-deploy", "helios deploy"},
		{"run", "ms-docker-run", "docker run -d"},
		{"api", "ms-api-create-start", "API create+start"},
		{"swarm", "ms-swarm-service", "docker service create"},
	} {
		if len(rows[r.key]) == 0 {
			fmt.Fprintf(&t, "  %-22s skipped: %s\n", r.what, swarmSkip)
			continue
		}
		m := median(rows[r.key])
		b.ReportMetric(ms(m), r.unit)
		record(b, row{Name: r.what + " → StartedAt (median of " + fmt.Sprint(latencyRuns) + ")", Target: metNA, Figure: ms(m), Unit: "ms", Met: metNA})
		fmt.Fprintf(&t, "  %-22s %8.1f   (runs: %v)\n", r.what, ms(m), rows[r.key])
	}

	overRun := overhead(rows["helios"], rows["run"])
	overAPI := overhead(rows["helios"], rows["api"])
	b.ReportMetric(ms(overRun), "ms-overhead-vs-run")
	b.ReportMetric(ms(overAPI), "ms-overhead-vs-api")
	record(b, msRow("helios deploy overhead over docker run -d (median of paired differences)", overRun, overheadTarget, overRun <= overheadTarget))
	fmt.Fprintf(&t, "helios overhead over docker run -d: %.1f ms (target ≤ %v): %s\n", ms(overRun), overheadTarget, metWord(overRun <= overheadTarget))
	if len(rows["swarm"]) > 0 {
		swarmAPI := overhead(rows["swarm"], rows["api"])
		b.ReportMetric(ms(swarmAPI), "ms-swarm-overhead-vs-api")
		record(b,
			row{Name: "Swarm's overhead over API create+start", Target: metNA, Figure: ms(swarmAPI), Unit: "ms", Met: metNA},
			row{Name: "helios deploy overhead over API create+start", Target: fmt.Sprintf("≤ 1/%d of Swarm's: %.1f ms", swarmOverheadPart, ms(swarmAPI)/swarmOverheadPart), Figure: ms(overAPI), Unit: "ms", Met: metIf(overAPI*swarmOverheadPart <= swarmAPI)})
		fmt.Fprintf(&t, "helios overhead over API create+start: %.1f ms, Swarm's %.1f ms (target ≤ 1/%d of Swarm's, %.1f ms): %s\n",
			ms(overAPI), ms(swarmAPI), swarmOverheadPart, ms(swarmAPI)/swarmOverheadPart, metWord(overAPI*swarmOverheadPart <= swarmAPI))
	} else {
		record(b, row{Name: "helios deploy overhead over API create+start (Swarm row skipped: " + swarmSkip + ")", Target: "≤ 1/10 of Swarm's", Figure: ms(overAPI), Unit: "ms", Met: metNA})
		fmt.Fprintf(&t, "helios overhead over API create+start: %.1f ms (Swarm row skipped: %s)\n", ms(overAPI), swarmSkip)
	}

	ratio := float64(runBurst) / float64(heliosBurst)
	b.ReportMetric(ms(heliosBurst), "ms-helios-burst")
	b.ReportMetric(ms(runBurst), "ms-docker-run-burst")
	b.ReportMetric(ratio, "burst-throughput-ratio")
	record(b,
		row{Name: fmt.Sprintf("%d helios deploy at once → last StartedAt", burstSize), Target: metNA, Figure: ms(heliosBurst), Unit: "ms", Met: metNA},
		row{Name: fmt.Sprintf("%d docker run -d at once → last StartedAt", burstSize), Target: metNA, Figure: ms(runBurst), Unit: "ms", Met: metNA},
		row{Name: "throughput of helios deploy as a share of docker run -d's", Target: fmt.Sprintf("≥ %.2f", throughputTarget), Figure: round(ratio, 2), Unit: "ratio", Met: metIf(ratio >= throughputTarget)})
	fmt.Fprintf(&t, "%d at once: helios deploy %.0f ms, docker run -d %.0f ms; throughput ratio %.2f (target ≥ %.2f): %s\n",
		burstSize, ms(heliosBurst), ms(runBurst), ratio, throughputTarget, metWord(ratio >= throughputTarget))
	b.Log("\n" + t.String())
}
