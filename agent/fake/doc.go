// Package fake is an in-memory agent.Runtime: containers "run" until stopped or killed by
// the test. The agent's loop tests use it, and `helios-agent --fake-runtime` runs "hollow"
// agents with it for scale benchmarks.
package fake
