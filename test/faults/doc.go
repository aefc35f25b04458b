// Package faults is the fault suite (`make test-faults`): real helios-master and
// helios-agent processes, a real etcd and the real Docker engine, broken on purpose (a
// TCP proxy that drops or stalls, compaction while cut off, etcd gone under a master),
// each test asserting that nothing was lost. docs/reliability.md lists the guarantees.
package faults
