// Package harness is the end-to-end test kit the suites share: an in-process master on a
// real embedded etcd, the real binaries built once and started as processes on free
// loopback ports, and per-run ids so a test only ever touches what it created.
package harness
