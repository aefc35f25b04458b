// Package store is the only package that speaks etcd: the key layout, typed reads and
// writes, compare-and-swap transactions, list-then-watch, leases and sessions, and starting
// an embedded etcd.
package store
