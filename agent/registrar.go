package agent

import (
	"context"
	"sync"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// Registrar publishes the endpoints of this host's healthy tasks for service discovery
// (docs/discovery.md). store.EndpointRegistrar is the real one: it writes them under the
// host's own prefix, bound to its lease, and the controller's leader mirrors them to DNS.
type Registrar interface {
	// Publish makes the task's endpoints discoverable, replacing what it had.
	Publish(ctx context.Context, je model.JobEndpoints) error
	// Withdraw removes them. With drain > 0 it then waits, at most drain, until DNS no
	// longer serves them; an error wrapping store.ErrNotDrained says it could not tell.
	Withdraw(ctx context.Context, id model.JobID, drain time.Duration) error
	// Published tells, per job, the container whose endpoints are published.
	Published() map[model.JobID]string
}

var (
	_ Registrar = (*store.EndpointRegistrar)(nil)
	_ Registrar = (*NopRegistrar)(nil)
)

// NopRegistrar publishes nothing anywhere; it only remembers what it was given, so an
// agent that uses it (hollow agents, tests) converges as with a real one.
type NopRegistrar struct {
	mu        sync.Mutex
	published map[model.JobID]model.JobEndpoints
}

// Publish remembers je.
func (r *NopRegistrar) Publish(_ context.Context, je model.JobEndpoints) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.published == nil {
		r.published = map[model.JobID]model.JobEndpoints{}
	}
	r.published[je.JobID] = je
	return nil
}

// Withdraw forgets the job's endpoints.
func (r *NopRegistrar) Withdraw(_ context.Context, id model.JobID, _ time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.published, id)
	return nil
}

// Published lists the jobs remembered, with their container.
func (r *NopRegistrar) Published() map[model.JobID]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return model.PublishedContainers(r.published)
}

// Endpoints is what the registrar holds of a job now (for tests).
func (r *NopRegistrar) Endpoints(id model.JobID) (model.JobEndpoints, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	je, ok := r.published[id]
	return je, ok
}
