package fake_test

import (
	"testing"

	"github.com/helios-go/helios/agent/fake"
	"github.com/helios-go/helios/agent/runtimetest"
)

func TestRuntimeContract(t *testing.T) {
	runtimetest.Run(t, runtimetest.Target{Runtime: fake.New(), Image: "contract:latest", Name: "contract"})
}
