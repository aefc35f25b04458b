package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/helios-go/helios/agent"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// Events implements agent.Runtime with the engine's event stream, filtered by the engine
// itself to container events of the wanted actions and labels.
func (d *Docker) Events(ctx context.Context, labels map[string]string) (<-chan agent.ContainerEvent, <-chan error) {
	f := make(client.Filters)
	f.Add("type", string(events.ContainerEventType))
	for _, a := range []string{agent.EventStart, agent.EventDie, agent.EventDestroy} {
		f.Add("event", a)
	}
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	// Events returns once the engine has answered the request, so the stream is
	// subscribed when this returns.
	res := d.cli.Events(ctx, client.EventsListOptions{Filters: f})
	out := make(chan agent.ContainerEvent)
	errs := make(chan error, 1)
	go func() {
		for {
			select {
			case m := <-res.Messages:
				ev := agent.ContainerEvent{Action: string(m.Action), ID: m.Actor.ID, Labels: maps.Clone(m.Actor.Attributes)}
				select {
				case out <- ev:
				case <-ctx.Done():
					errs <- ctx.Err()
					return
				}
			case err := <-res.Err:
				if err == nil { // closed without an error: the stream still ended
					err = errors.New("stream closed")
				}
				errs <- fmt.Errorf("docker events: %w", err)
				return
			}
		}
	}()
	return out, errs
}
