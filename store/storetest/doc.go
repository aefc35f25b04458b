// Package storetest starts a real etcd inside the test process (temp dir, random loopback
// ports) for tests of the store and of the code built on it.
package storetest
