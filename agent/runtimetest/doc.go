// Package runtimetest is the contract every agent.Runtime keeps, as one test suite run
// against each implementation (the fake in agent/fake, Docker in agent/docker).
package runtimetest
