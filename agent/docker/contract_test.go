package docker_test

import (
	"testing"

	"github.com/helios-go/helios/agent/runtimetest"
	"github.com/helios-go/helios/test/testimage"
)

// TestRuntimeContract runs the Runtime contract on the real engine with the local test
// image; its containers carry the run label, so cleanupRun removes any left behind.
func TestRuntimeContract(t *testing.T) {
	d := needDocker(t)
	runtimetest.Run(t, runtimetest.Target{
		Runtime: d, Image: testimage.Tag, Labels: map[string]string{labelRun: runID}, Name: "helios-contract-" + runID,
		AbsentImage: "helios-contract-absent:" + runID,
	})
}
