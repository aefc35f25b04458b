package fake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/helios-go/helios/agent"
)

var _ agent.Runtime = (*Runtime)(nil)

// Runtime keeps containers in memory. The zero value is not usable; call New.
type Runtime struct {
	mu         sync.Mutex
	containers map[string]*ctr
	now        func() time.Time
	missing    map[string]bool  // images not present locally
	pullErr    map[string]error // pull results by image
	exec       func(id string, cmd []string) (int, error)
	subs       []*subscriber // open events streams (events.go)
	hold       *createHold   // the next Create stops halfway (hold.go)
	// counters a test can read
	creates, starts, stops, removes, pulls int
}

type ctr struct {
	c    agent.Container
	spec agent.ContainerSpec
	done chan struct{} // closed when the container stops running; nil when never started
	// creating: its Create is held halfway (hold.go): listed, not yet found by id.
	creating bool
}

// New returns an empty runtime.
func New() *Runtime {
	return &Runtime{containers: map[string]*ctr{}, now: time.Now, missing: map[string]bool{}, pullErr: map[string]error{}}
}

func newID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// List implements agent.Runtime.
func (r *Runtime) List(_ context.Context, labels map[string]string) ([]agent.Container, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []agent.Container
	for _, c := range r.containers {
		if hasLabels(c.c.Labels, labels) {
			out = append(out, copyContainer(c.c))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func copyContainer(c agent.Container) agent.Container {
	c.Labels = maps.Clone(c.Labels)
	c.Ports = append([]agent.PortBinding(nil), c.Ports...)
	return c
}

// Create implements agent.Runtime.
func (r *Runtime) Create(ctx context.Context, spec agent.ContainerSpec) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.missing[spec.Image] {
		return "", fmt.Errorf("create %s: image %s: %w", spec.Name, spec.Image, agent.ErrNoSuchImage)
	}
	for _, c := range r.containers {
		if spec.Name != "" && c.c.Name == spec.Name {
			return "", fmt.Errorf("create %s: name already in use by %s", spec.Name, c.c.ID)
		}
	}
	id := newID()
	c := &ctr{
		c: agent.Container{
			ID: id, Name: spec.Name, Image: spec.Image, Labels: maps.Clone(spec.Labels),
			Created: r.now(), Ports: append([]agent.PortBinding(nil), spec.Ports...),
			// Fake containers "listen" on the loopback: a test serving 127.0.0.1:<internal
			// port> answers their port health checks.
			NetworkMode: spec.NetworkMode, IPAddress: "127.0.0.1",
		},
		spec: spec,
	}
	r.containers[id] = c
	if h := r.hold; h != nil {
		r.hold = nil
		if err := r.holdLocked(ctx, h, c); err != nil {
			return "", err
		}
	}
	r.creates++
	return id, nil
}

func (r *Runtime) get(id string) (*ctr, error) {
	c, ok := r.containers[id]
	if !ok || c.creating {
		return nil, fmt.Errorf("container %s: %w", id, agent.ErrNoSuchContainer)
	}
	return c, nil
}

// Start implements agent.Runtime.
func (r *Runtime) Start(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.get(id)
	if err != nil {
		return err
	}
	if c.c.Running {
		return nil
	}
	c.c.Running, c.c.StartedAt, c.c.ExitCode = true, r.now(), 0
	c.c.FinishedAt = time.Time{}
	c.done = make(chan struct{})
	r.starts++
	r.publishLocked(agent.EventStart, c.c)
	return nil
}

// exit marks a running container exited; callers hold mu.
func (r *Runtime) exit(c *ctr, code int) {
	if !c.c.Running {
		return
	}
	c.c.Running, c.c.ExitCode, c.c.FinishedAt = false, code, r.now()
	close(c.done)
	r.publishLocked(agent.EventDie, c.c)
}

// Stop implements agent.Runtime: fake containers honour SIGTERM at once (exit code 143).
func (r *Runtime) Stop(_ context.Context, id string, _ time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.get(id)
	if err != nil {
		return err
	}
	r.stops++
	r.exit(c, 143)
	return nil
}

// Remove implements agent.Runtime.
func (r *Runtime) Remove(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok || c.creating {
		return nil
	}
	r.exit(c, 137)
	delete(r.containers, id)
	r.removes++
	r.publishLocked(agent.EventDestroy, c.c)
	return nil
}

// Inspect implements agent.Runtime.
func (r *Runtime) Inspect(_ context.Context, id string) (agent.Container, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.get(id)
	if err != nil {
		return agent.Container{}, err
	}
	return copyContainer(c.c), nil
}

// Exec implements agent.Runtime: "env" prints the container's environment; anything else
// answers as SetExec said, else exits 0 with no output.
func (r *Runtime) Exec(_ context.Context, id string, cmd []string) (int, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.get(id)
	if err != nil {
		return 0, nil, err
	}
	if !c.c.Running {
		return 0, nil, fmt.Errorf("exec in %s: container not running", id)
	}
	if len(cmd) > 0 && cmd[0] == "env" {
		var out []byte
		for _, e := range c.spec.Env {
			out = append(out, e+"\n"...)
		}
		return 0, out, nil
	}
	if r.exec != nil {
		code, err := r.exec(id, cmd)
		return code, nil, err
	}
	return 0, nil, nil
}

// Wait implements agent.Runtime.
func (r *Runtime) Wait(ctx context.Context, id string) (int, error) {
	r.mu.Lock()
	c, err := r.get(id)
	if err != nil {
		r.mu.Unlock()
		return 0, err
	}
	done := c.done
	if !c.c.Running {
		code := c.c.ExitCode
		r.mu.Unlock()
		return code, nil
	}
	r.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return c.c.ExitCode, nil
}

// Info implements agent.Runtime.
func (r *Runtime) Info(context.Context) (agent.EngineInfo, error) {
	return agent.EngineInfo{Version: "fake", APIVersion: "fake", OS: "linux", Host: "fake://"}, nil
}

// Kill makes a running container exit with code, as if its process died.
func (r *Runtime) Kill(id string, code int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.get(id)
	if err != nil {
		return err
	}
	r.exit(c, code)
	return nil
}

// Spec returns the spec a container was created from.
func (r *Runtime) Spec(id string) (agent.ContainerSpec, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return agent.ContainerSpec{}, false
	}
	return c.spec, true
}

// Counts reports how many creates, starts, stops and removes the runtime has seen.
type Counts struct{ Creates, Starts, Stops, Removes int }

// Counts returns the operation counters.
func (r *Runtime) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Counts{r.creates, r.starts, r.stops, r.removes}
}

// Add puts a container in the runtime directly, running, as if someone else had created it.
func (r *Runtime) Add(name string, labels map[string]string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := newID()
	r.containers[id] = &ctr{
		c:    agent.Container{ID: id, Name: name, Labels: maps.Clone(labels), Created: r.now(), Running: true, StartedAt: r.now()},
		done: make(chan struct{}),
	}
	r.publishLocked(agent.EventStart, r.containers[id].c)
	return id
}

// HasImage implements agent.Runtime: every image is present unless RemoveImage said otherwise.
func (r *Runtime) HasImage(_ context.Context, image string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.missing[image], nil
}

// Pull implements agent.Runtime: it fails with the error SetPullError gave for the image,
// else makes the image present.
func (r *Runtime) Pull(_ context.Context, image string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pulls++
	if err := r.pullErr[image]; err != nil {
		return err
	}
	delete(r.missing, image)
	return nil
}

// RemoveImage makes an image absent locally, so the agent pulls it before creating.
func (r *Runtime) RemoveImage(image string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.missing[image] = true
}

// SetPullError makes pulls of image fail with err (nil: succeed again).
func (r *Runtime) SetPullError(image string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		delete(r.pullErr, image)
		return
	}
	r.pullErr[image] = err
}

// Pulls is how many pulls the runtime has seen.
func (r *Runtime) Pulls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pulls
}

// SetExec makes Exec in running containers answer with f (health checks of type exec).
func (r *Runtime) SetExec(f func(id string, cmd []string) (int, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exec = f
}
