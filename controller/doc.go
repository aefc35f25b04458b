// Package controller holds what the master process does beyond storage: serving the REST
// API (controller/api), registering the master in etcd, and, later, the leader-elected loops.
package controller
