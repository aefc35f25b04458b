package main

import (
	"reflect"
	"testing"
)

func TestParseBenchLine(t *testing.T) {
	for _, tc := range []struct {
		line    string
		want    []Row
		ok, err bool
	}{
		{line: "PASS"},
		{line: ""},
		{line: "goos: linux"},
		{line: "BenchmarkDeploy"},
		{line: "    bench_test.go:12: BenchmarkX note"},
		{line: "BenchmarkDeploy-2 \t foo bar"}, // a log line under the name, not a result
		{line: "BenchmarkDeploy-2   4287   562000 ns/op", ok: true, want: []Row{
			{Bench: "BenchmarkDeploy", Name: "BenchmarkDeploy ms/op", Target: "—", Figure: 0.562, Unit: "ms/op", Met: "—"},
		}},
		{line: "BenchmarkHostStatuses1000-16 12 92000000 ns/op 3.5 MB", ok: true, want: []Row{
			{Bench: "BenchmarkHostStatuses1000", Name: "BenchmarkHostStatuses1000 ms/op", Target: "—", Figure: 92, Unit: "ms/op", Met: "—"},
			{Bench: "BenchmarkHostStatuses1000", Name: "BenchmarkHostStatuses1000 MB", Target: "—", Figure: 3.5, Unit: "MB", Met: "—"},
		}},
		{line: "BenchmarkA/hosts=100 1 5 s", ok: true, want: []Row{
			{Bench: "BenchmarkA/hosts=100", Name: "BenchmarkA/hosts=100 s", Target: "—", Figure: 5, Unit: "s", Met: "—"},
		}},
		{line: "BenchmarkDeploy-2 10 562000", err: true},
		{line: "BenchmarkDeploy-2 10 x ns/op", err: true},
	} {
		got, ok, err := ParseBenchLine(tc.line)
		if (err != nil) != tc.err || ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseBenchLine(%q) = %+v, %v, %v; want %+v, %v, error %v", tc.line, got, ok, err, tc.want, tc.ok, tc.err)
		}
	}
}

func FuzzParseBenchLine(f *testing.F) {
	for _, s := range []string{"BenchmarkDeploy-2 4287 562000 ns/op", "PASS", "BenchmarkX 1 2", "Benchmark- 1 1e309 ns/op"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		rows, ok, err := ParseBenchLine(line)
		if err != nil && ok {
			t.Fatalf("ok with an error: %v", err)
		}
		if ok && len(rows) == 0 {
			t.Fatal("ok without rows")
		}
		for _, r := range rows {
			if r.Name == "" || r.Unit == "" {
				t.Fatalf("row without name or unit: %+v", r)
			}
		}
	})
}
