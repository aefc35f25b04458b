package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/helios-go/helios/test/testimage"
)

// swarmServiceLabel is the label Swarm puts on a task's container naming its service.
const swarmServiceLabel = "com.docker.swarm.service.name"

// swarmBridge is the network `docker swarm init` creates and `docker swarm leave` keeps.
const swarmBridge = "docker_gwbridge"

// initSwarm makes a one-node swarm on loopback for the Swarm row, and returns why the row
// is skipped instead: the engine already in a swarm (the bench leaves only a swarm it made,
// so it does not touch that one) or `docker swarm init` failing here.
func (lb *latencyBench) initSwarm() (skip string) {
	state, err := swarmState(lb.ctx)
	if err != nil {
		return fmt.Sprintf("cannot read the engine's swarm state: %v", err)
	}
	if state != "inactive" {
		return fmt.Sprintf("the engine is already in a swarm (state %q); the bench leaves only a swarm it made", state)
	}
	// swarm init makes the docker_gwbridge network and leaving keeps it: remove it at the
	// end only if it was not there before.
	_, err = run(lb.ctx, "docker", "network", "inspect", swarmBridge)
	lb.madeBridge = err != nil
	if _, err := run(lb.ctx, "docker", "swarm", "init", "--advertise-addr", "127.0.0.1"); err != nil {
		return fmt.Sprintf("docker swarm init failed: %v", err)
	}
	lb.swarm = true
	return ""
}

// swarmService times `docker service create --no-resolve-image --restart-condition none`
// to the StartedAt of its task's container. --detach returns once the service is
// accepted; the clock runs on to the container's start either way.
func (lb *latencyBench) swarmService(i int) (time.Duration, error) {
	name := fmt.Sprintf("bench-lat-%s-svc%d", lb.id, i)
	ctx, cancel := context.WithCancel(lb.ctx)
	defer cancel()
	ch := starts(ctx, lb.d, map[string]string{swarmServiceLabel: name})
	t0 := time.Now()
	_, err := run(lb.ctx, "docker", append([]string{"service", "create", "--detach", "--no-resolve-image",
		"--restart-condition", "none", "--name", name,
		"--label", benchLabel + "=" + lb.id, "--container-label", benchLabel + "=" + lb.id,
		testimage.BusyboxTag}, latencyCmd...)...)
	if err != nil {
		return 0, err
	}
	at, err := startedAt(ctx, lb.d, ch, 1)
	return at.Sub(t0), err
}

// leaveSwarm removes the run's services and leaves the swarm, only if the run made it.
func (lb *latencyBench) leaveSwarm(ctx context.Context) {
	if !lb.swarm {
		return
	}
	out, err := run(ctx, "docker", "service", "ls", "-q", "--filter", "label="+benchLabel+"="+lb.id)
	if err == nil && out != "" {
		_, err = run(ctx, "docker", append([]string{"service", "rm"}, fieldsOf(out)...)...)
	}
	if err != nil {
		lb.b.Errorf("remove the bench's services: %v", err)
	}
	if _, err := run(ctx, "docker", "swarm", "leave", "--force"); err != nil {
		lb.b.Errorf("leave the swarm the bench made: %v", err)
		return
	}
	lb.swarm = false
	if lb.madeBridge {
		if _, err := run(ctx, "docker", "network", "rm", swarmBridge); err != nil {
			lb.b.Errorf("remove the %s network the swarm made: %v", swarmBridge, err)
		}
	}
}

func fieldsOf(s string) []string { return strings.Fields(s) }
