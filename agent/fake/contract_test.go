package fake_test

import (
	"testing"

	"github.com/helios-go/helios/agent/fake"
	"github.com/helios-go/helios/agent/runtimetest"
)

func TestRuntimeContract(t *testing.T) {
	rt := fake.New()
	rt.RemoveImage("contract-absent:latest")
	runtimetest.Run(t, runtimetest.Target{Runtime: rt, Image: "contract:latest", AbsentImage: "contract-absent:latest", Name: "contract"})
}
