package bench

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/agent/docker"
)

// benchLabel marks every container and service the deploy-latency bench makes itself, with
// the run's id as value, so clean-up removes those and nothing else on the shared engine.
const benchLabel = "helios-bench"

// run runs a command with a deadline and returns its trimmed stdout; a failure carries
// everything it printed.
func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// starts subscribes to the start events of containers carrying labels. The engine has
// accepted the subscription when it returns, so a container started afterwards is seen.
// The stream ends with ctx.
func starts(ctx context.Context, d *docker.Docker, labels map[string]string) <-chan agent.ContainerEvent {
	evs, _ := d.Events(ctx, labels)
	out := make(chan agent.ContainerEvent, 64)
	go func() {
		defer close(out)
		for ev := range evs {
			if ev.Action == agent.EventStart {
				out <- ev
			}
		}
	}()
	return out
}

// startedAt waits for n start events from ch and returns the latest StartedAt the engine
// recorded for them (the engine's own clock, not the moment the event was read).
func startedAt(ctx context.Context, d *docker.Docker, ch <-chan agent.ContainerEvent, n int) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var last time.Time
	for i := 0; i < n; i++ {
		var ev agent.ContainerEvent
		select {
		case e, ok := <-ch:
			if !ok {
				return time.Time{}, fmt.Errorf("the event stream ended after %d of %d starts", i, n)
			}
			ev = e
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%d of %d containers started: %w", i, n, ctx.Err())
		}
		c, err := d.Inspect(ctx, ev.ID)
		if err != nil {
			return time.Time{}, err
		}
		if c.StartedAt.IsZero() {
			return time.Time{}, fmt.Errorf("container %s started without a StartedAt", ev.ID)
		}
		if c.StartedAt.After(last) {
			last = c.StartedAt
		}
	}
	return last, nil
}

// removeLabelled force-removes the containers labelled benchLabel=id, and only those.
func removeLabelled(ctx context.Context, id string) error {
	out, err := run(ctx, "docker", "ps", "-aq", "--filter", "label="+benchLabel+"="+id)
	if err != nil || out == "" {
		return err
	}
	_, err = run(ctx, "docker", append([]string{"rm", "-f", "-v"}, strings.Fields(out)...)...)
	return err
}

// swarmState is the engine's swarm membership: "inactive" when it is in none.
func swarmState(ctx context.Context) (string, error) {
	return run(ctx, "docker", "info", "--format", "{{.Swarm.LocalNodeState}}")
}
