// Package groups tests deployment groups and rolling updates end to end in one process:
// a master (REST API and leader loops) on an embedded etcd, and hollow agents (the real
// agent loop over the in-memory fake runtime) labelled as a fleet would be.
package groups
