// Package agent runs on every Docker host: it registers the host in etcd, reads the host's
// deployments and makes the host's containers match them, level-triggered, reporting each
// task's status and history back to etcd.
package agent
