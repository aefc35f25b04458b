// Package cluster tests `make cluster` end to end (deploy/cluster) in its default secured
// layout: three etcd members (TLS, authentication), three masters (HTTPS, tokens) and three
// agents in containers, driven through the CLI with all three masters in -z, the cluster's
// CA and its admin token, while a master and an etcd member are killed; strangers without
// credentials are refused by the masters and by etcd.
package cluster
