// Package cluster holds the tooling of `make cluster` (cluster.sh, helios-etcd under etcd/
// and helios-cluster-certs under certs/): a three-member etcd, three masters and three
// agents in containers on one Docker engine, secured by default (TLS for etcd's clients
// and peers, etcd users per role, HTTPS and tokens on the API), for trying a real
// multi-node layout locally. See docs/operations.md.
package cluster
