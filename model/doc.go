// Package model holds Helios's plain data types and the pure functions over them: jobs and
// their ids and hashes, validation, task states and goals, host selectors, rollout options
// and the REST API's request and response bodies. It does no I/O.
package model
