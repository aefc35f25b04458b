// Package bench holds Helios's scale benchmarks: many hollow agents (the fake runtime, in
// one process) against one embedded etcd, measuring how fast deployments converge; the
// master's reads; and deploy latency on the real Docker engine beside `docker run -d`,
// the engine API and Swarm.
// `make bench` runs them with the store's micro-benchmarks; docs/benchmarks.md keeps the
// results and the command that reproduces them.
package bench
