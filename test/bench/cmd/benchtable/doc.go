// Command benchtable gathers the rows of one `make bench` run into one JSON file and prints
// them as one table: the rows test/bench appends to $BENCH_ROWS (one JSON object a line,
// each a figure with its target and whether it is met) and the standard lines of
// `go test -bench` output (the store's micro-benchmarks, which have no target).
//
//	benchtable -rows rows.jsonl -gobench store.txt -out bench-results.json
package main
