package agent

import (
	"context"
	"errors"
	"time"
)

// Labels put on every container the agent creates. Adoption after a restart and reaping rely
// on them (and the state dir's record, see identity.go), never on names, so agents sharing
// one engine never touch each other's, even under the same host name.
const (
	LabelHost     = "helios.host"      // the agent's --name
	LabelCluster  = "helios.cluster"   // the cluster id (store EnsureClusterUID) of the agent's etcd key root
	LabelJobID    = "helios.job-id"    // full job id
	LabelSpecHash = "helios.spec-hash" // hash of the container spec (see specHash)
)

// ErrNoSuchContainer is returned (wrapped) by a Runtime asked about a container it does not have.
var ErrNoSuchContainer = errors.New("no such container")

// ErrImageNotFound is returned (wrapped) by Runtime.Pull when the registry says it has no
// such image (manifest unknown, repository not found): the task is throttled IMAGE_MISSING.
// Any other pull error means IMAGE_PULL_FAILED.
var ErrImageNotFound = errors.New("image not found in registry")

// ErrNoSuchImage is returned (wrapped) by Runtime.Create when the spec's image is not present
// locally. The agent creates first and looks for (and pulls) the image only then: a present
// image, the usual case, costs no inspect before the create.
var ErrNoSuchImage = errors.New("no such image")

// Runtime is what the agent needs of a container engine. agent/docker implements it over the
// Docker API and agent/fake in memory.
type Runtime interface {
	// List returns every container (running or not) carrying all of labels.
	List(ctx context.Context, labels map[string]string) ([]Container, error)
	// Create creates a container from spec without starting it and returns its id;
	// ErrNoSuchImage (wrapped) when the image is not present locally.
	Create(ctx context.Context, spec ContainerSpec) (string, error)
	// Start starts a created or exited container.
	Start(ctx context.Context, id string) error
	// Stop sends SIGTERM, then SIGKILL after timeout. Stopping a stopped container is no error.
	Stop(ctx context.Context, id string, timeout time.Duration) error
	// Remove removes a container, killing it if it runs. A missing container is no error.
	Remove(ctx context.Context, id string) error
	// Inspect returns one container; ErrNoSuchContainer if it is gone.
	Inspect(ctx context.Context, id string) (Container, error)
	// Exec runs cmd inside a running container and returns its exit code and output.
	Exec(ctx context.Context, id string, cmd []string) (int, []byte, error)
	// Wait blocks until the container is no longer running (or ctx ends) and returns its
	// exit code. It returns at once for a container that is not running.
	Wait(ctx context.Context, id string) (int, error)
	// Info describes the engine.
	Info(ctx context.Context) (EngineInfo, error)
	// HasImage tells whether the image is present locally.
	HasImage(ctx context.Context, image string) (bool, error)
	// Pull fetches the image from its registry; ErrImageNotFound (wrapped) when the registry
	// does not have it.
	Pull(ctx context.Context, image string) error
	// Events streams the start, die and destroy events of the containers carrying all of
	// labels, from when it returns until ctx ends or the stream breaks. Then the error
	// channel gets one error (ctx's own once ctx ended) and no more events come: the caller
	// subscribes again and lists, since events may have been missed meanwhile.
	Events(ctx context.Context, labels map[string]string) (<-chan ContainerEvent, <-chan error)
}

// Container event actions the agent reacts to (Docker's names).
const (
	EventStart   = "start"
	EventDie     = "die"
	EventDestroy = "destroy"
)

// ContainerEvent is one change of a container reported by the engine.
type ContainerEvent struct {
	Action string // EventStart, EventDie or EventDestroy
	ID     string
	Labels map[string]string // the container's labels (the job id among them)
}

// JobID is the job id label, "" for a container without one.
func (e ContainerEvent) JobID() string { return e.Labels[LabelJobID] }

// ContainerSpec is everything the agent asks of a new container, in the agent's terms.
type ContainerSpec struct {
	Name        string
	Image       string
	Cmd         []string
	Env         []string // KEY=value, sorted
	Labels      map[string]string
	Hostname    string
	Ports       []PortBinding
	Mounts      []Mount
	Tmpfs       map[string]string // mount point -> options
	Memory      int64
	MemorySwap  int64
	CPUShares   int64
	CPUSet      string
	CapAdd      []string
	CapDrop     []string
	SecurityOpt []string
	NetworkMode string
	Runtime     string
	Init        bool
	DNS         []string
	ExtraHosts  []string // host:ip
	// SyslogAddress, when set, sends the container's output to syslog at this address
	// (tcp://host:port...) with SyslogTag as its tag.
	SyslogAddress string
	SyslogTag     string
}

// PortBinding publishes ContainerPort/Proto on HostIP:HostPort.
type PortBinding struct {
	Name          string
	ContainerPort int
	HostPort      int
	Proto         string // tcp or udp
	HostIP        string // "" = all addresses
}

// Mount types.
const (
	MountBind   = "bind"   // Source is an absolute host path
	MountVolume = "volume" // Source is a volume name; "" = a fresh anonymous data volume
)

// Mount attaches a host path or a volume to Target.
type Mount struct {
	Type     string
	Source   string
	Target   string
	ReadOnly bool
}

// Container is what the agent observes of one container.
type Container struct {
	ID         string
	Name       string
	Image      string
	Labels     map[string]string
	Running    bool
	ExitCode   int
	Created    time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	Ports      []PortBinding // host ports actually bound (Name unset)
	// NetworkMode is the container's network mode ("" = the engine's default, bridge);
	// IPAddress its address on that network, if any. Port health checks reach the
	// container there, not through a published port (see healthTarget).
	NetworkMode string
	IPAddress   string
}

// JobID is the job id label, "" for a container without one.
func (c Container) JobID() string { return c.Labels[LabelJobID] }

// EngineInfo describes the container engine.
type EngineInfo struct {
	Version       string
	APIVersion    string
	Arch          string
	OS            string
	KernelVersion string
	GitCommit     string
	GoVersion     string
	Host          string // where the engine was reached, e.g. unix:///var/run/docker.sock
}
