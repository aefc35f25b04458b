// Package e2e runs the real binaries (helios-master, helios-solo, helios, helios-agent) as
// processes against embedded etcd and the local Docker engine, the way a user would.
package e2e
