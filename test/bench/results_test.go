package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// resultsEnv names the file the benchmarks append their rows to, one JSON object a line;
// `make bench` sets it, and test/bench/cmd/benchtable prints the rows as one table and
// gathers them into one JSON file. Unset, rows are only logged.
const resultsEnv = "BENCH_ROWS"

// Met values of a row.
const (
	metYes = "yes"
	metNo  = "no"
	metNA  = "—" // a figure without a target
)

// row is one figure of a benchmark, with its target. The field names are the JSON the
// table program reads (benchtable.Row).
type row struct {
	Bench  string  `json:"bench"`
	Name   string  `json:"name"`
	Target string  `json:"target"`
	Figure float64 `json:"figure"`
	Unit   string  `json:"unit"`
	Met    string  `json:"met"`
	Load   string  `json:"load,omitempty"` // the load average (1 min) when the figure was taken
}

var resultsMu sync.Mutex

// record logs rows and appends them to $BENCH_ROWS. A row that cannot be written fails
// the benchmark: a silent gap in the table would read as a missing row, not as an error.
func record(b testing.TB, rows ...row) {
	b.Helper()
	load := loadAvg()
	for i := range rows {
		rows[i].Bench = strings.SplitN(b.Name(), "/", 2)[0]
		if rows[i].Load == "" {
			rows[i].Load = load
		}
		b.Logf("row: %s: %g %s (target %s, met %s, load %s)", rows[i].Name, rows[i].Figure, rows[i].Unit, rows[i].Target, rows[i].Met, rows[i].Load)
	}
	path := os.Getenv(resultsEnv)
	if path == "" {
		return
	}
	resultsMu.Lock()
	defer resultsMu.Unlock()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		b.Fatalf("bench rows: %v", err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			b.Fatalf("bench rows: write %s: %v", path, err)
		}
	}
}

// metIf turns a comparison into a row's met value.
func metIf(ok bool) string {
	if ok {
		return metYes
	}
	return metNo
}

// msRow is a row of a duration, in milliseconds, against an upper bound.
func msRow(name string, got, target time.Duration, ok bool) row {
	return row{Name: name, Target: fmt.Sprintf("≤ %g ms", ms(target)), Figure: ms(got), Unit: "ms", Met: metIf(ok)}
}

// loadAvg is the machine's 1-minute load average, from /proc/loadavg ("" elsewhere): the
// benchmarks share two cores with other work, and their figures follow the load.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(data)); len(f) > 0 {
		return f[0]
	}
	return ""
}
