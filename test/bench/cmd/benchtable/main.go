package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	rowsPath := fs.String("rows", "", "file of rows, one JSON object a line (test/bench's $BENCH_ROWS)")
	goBench := fs.String("gobench", "", "comma-separated files of `go test -bench` output")
	out := fs.String("out", "bench-results.json", "JSON file to write every row to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var rows []Row
	for _, path := range strings.Split(*goBench, ",") {
		if path == "" {
			continue
		}
		r, err := readGoBench(path)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	if *rowsPath != "" {
		r, err := readRows(*rowsPath)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	data, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return fmt.Errorf("encode rows: %w", err)
	}
	if err := os.WriteFile(*out, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	printTable(stdout, rows)
	fmt.Fprintf(stdout, "\n%d rows written to %s\n", len(rows), *out)
	return nil
}

func readGoBench(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("go bench output: %w", err)
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		r, ok, err := ParseBenchLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if ok {
			rows = append(rows, r...)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rows, nil
}

// readRows reads test/bench's rows. A missing file is no rows: every bench was skipped or
// failed before its first row, which the make target reports itself.
func readRows(path string) ([]Row, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bench rows: %w", err)
	}
	defer f.Close()
	var rows []Row
	dec := json.NewDecoder(f)
	for {
		var r Row
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bench rows %s: row %d: %w", path, len(rows)+1, err)
		}
		rows = append(rows, r)
	}
}

func printTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "BENCH\tROW\tTARGET\tFIGURE\tUNIT\tMET\tLOAD")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Bench, r.Name, r.Target, strconv.FormatFloat(r.Figure, 'g', 4, 64), r.Unit, r.Met, r.Load)
	}
	tw.Flush()
	missed := 0
	for _, r := range rows {
		if r.Met == "no" {
			missed++
		}
	}
	fmt.Fprintf(w, "\ntargets missed: %d\n", missed)
}
