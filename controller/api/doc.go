// Package api is the master's REST API: the original Helios's endpoints, served from etcd
// through the store, with its status words, a version header on every response and request
// metrics.
package api
