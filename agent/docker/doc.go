// Package docker implements agent.Runtime over the Docker Engine API
// (github.com/moby/moby/client), negotiating the API version with the engine.
package docker
