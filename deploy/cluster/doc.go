// Package cluster holds the tooling of `make cluster` (cluster.sh, and helios-etcd under
// etcd/): a three-member etcd, three masters and three agents in containers on one Docker
// engine, for trying a real multi-node layout locally. See docs/operations.md.
package cluster
