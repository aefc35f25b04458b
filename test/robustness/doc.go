// Package robustness checks Helios the way etcd's tests/robustness checks etcd: random
// concurrent clients call the REST API of two masters while a fault injector kills and
// restarts an etcd member, a master and agents; every call's input, answer and call and
// return times are recorded, and the history is checked for linearizability with porcupine
// against a sequential model of jobs and deployments (model.go). Once the faults stop,
// every hollow agent's containers and task statuses must converge to the desired state.
//
// The package holds the model and the run's settings; the cluster, the clients and the
// faults live in its tests. docs/reliability.md has the figures and how to replay a seed.
package robustness
