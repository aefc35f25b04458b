// Package cluster tests `make cluster` end to end (deploy/cluster): three etcd members,
// three masters and three agents in containers, driven through the CLI with all three
// masters in -z, while a master and an etcd member are killed.
package cluster
