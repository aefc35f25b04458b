package agent

import (
	"context"
	"time"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

// followEvents wakes the job of every container event of this host (a start, a death, a
// removal), so the loop reacts at once without listing all containers. When the stream
// breaks it subscribes again, backing off while the engine does not answer, and asks for a
// pass over everything: events may have been missed meanwhile.
func (a *Agent) followEvents(ctx context.Context, evs <-chan ContainerEvent, errs <-chan error) {
	failures := 0
	for {
		delivered := false
	stream:
		for {
			select {
			case ev := <-evs:
				delivered = true
				if id := ev.JobID(); id != "" {
					a.wakes.job(model.JobID(id))
				}
			case err := <-errs:
				if ctx.Err() != nil {
					return
				}
				if delivered {
					failures = 0
				}
				failures++
				log := a.log.Debug
				if failures == 1 {
					log = a.log.Warn
				}
				log("container events stream broke; subscribing again", zap.Int("failures-in-a-row", failures), zap.Error(err))
				break stream
			}
		}
		a.m.eventsRestarts.Inc()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff(failures, 100*time.Millisecond, 5*time.Second)):
		}
		evs, errs = a.cfg.Runtime.Events(ctx, map[string]string{LabelHost: a.cfg.Name})
		a.wakes.everything()
	}
}
