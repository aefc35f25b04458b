// Package daemon holds the start-up code the long-running binaries share: logger set-up,
// the master's flags and wiring, and the embedded etcd's flags.
package daemon
