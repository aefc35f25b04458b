package main

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseBenchLine reads one result line of `go test -bench` output, e.g.
//
//	BenchmarkDeploy-2   	    4287	    562000 ns/op	  12 allocs/op
//
// into one row per figure (ns/op is given as ms/op). ok is false for any other line
// (PASS, logs, goos: ...); a line that starts like a result but is malformed is an error.
func ParseBenchLine(line string) (rows []Row, ok bool, err error) {
	f := strings.Fields(line)
	if len(f) == 0 || !strings.HasPrefix(f[0], "Benchmark") || len(f) < 2 {
		return nil, false, nil
	}
	if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
		return nil, false, nil // a log line of a benchmark, not its result
	}
	if len(f) < 4 || len(f)%2 != 0 {
		return nil, false, fmt.Errorf("benchmark line %q: want name, iterations and value-unit pairs", line)
	}
	name := f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i] // the GOMAXPROCS suffix
		}
	}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil, false, fmt.Errorf("benchmark line %q: value %q: %w", line, f[i], err)
		}
		unit := f[i+1]
		if unit == "ns/op" {
			v, unit = v/1e6, "ms/op"
		}
		rows = append(rows, Row{Bench: name, Name: name + " " + unit, Target: noTarget, Figure: v, Unit: unit, Met: noTarget})
	}
	return rows, true, nil
}
