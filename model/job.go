package model

import "time"

// Job tells Helios how to run one Docker container. JSON names are the original's, so job
// files written for it load unchanged. Everything but ID and Image is optional.
type Job struct {
	ID                      JobID                   `json:"id"`    // required, immutable
	Image                   string                  `json:"image"` // required
	Hostname                string                  `json:"hostname,omitempty"`
	Created                 *int64                  `json:"created,omitempty"` // ms since the epoch, set by the master
	Command                 []string                `json:"command"`
	Env                     map[string]string       `json:"env"`
	Resources               *Resources              `json:"resources,omitempty"`
	Ports                   map[string]PortMapping  `json:"ports"`
	Registration            map[string]ServicePorts `json:"registration"` // key "service/protocol"
	RegistrationDomain      string                  `json:"registrationDomain,omitempty"`
	GracePeriod             *int                    `json:"gracePeriod,omitempty"` // seconds
	Volumes                 map[string]string       `json:"volumes,omitempty"`     // "containerPath[:ro|rw]" -> host path, volume name or ""
	Expires                 *time.Time              `json:"expires,omitempty"`
	CreatingUser            string                  `json:"creatingUser,omitempty"`
	Token                   string                  `json:"token,omitempty"`
	HealthCheck             *HealthCheck            `json:"healthCheck,omitempty"`
	SecurityOpt             []string                `json:"securityOpt,omitempty"`
	NetworkMode             string                  `json:"networkMode,omitempty"`
	Metadata                map[string]string       `json:"metadata,omitempty"`
	AddCapabilities         []string                `json:"addCapabilities,omitempty"`
	DropCapabilities        []string                `json:"dropCapabilities,omitempty"`
	Labels                  map[string]string       `json:"labels,omitempty"`
	SecondsToWaitBeforeKill *int                    `json:"secondsToWaitBeforeKill,omitempty"`
	Ramdisks                map[string]string       `json:"ramdisks,omitempty"` // mount point -> mount options
	RolloutOptions          *RolloutOptions         `json:"rolloutOptions,omitempty"`
	Runtime                 string                  `json:"runtime,omitempty"`
}

// DefaultSecondsToWaitBeforeKill is how long `docker stop` waits between SIGTERM and SIGKILL
// when the job does not say.
const DefaultSecondsToWaitBeforeKill = 120

// KillTimeout is the job's secondsToWaitBeforeKill, or its default.
func (j *Job) KillTimeout() time.Duration {
	if j.SecondsToWaitBeforeKill != nil {
		return time.Duration(*j.SecondsToWaitBeforeKill) * time.Second
	}
	return DefaultSecondsToWaitBeforeKill * time.Second
}

// Resources are the container's runtime constraints.
type Resources struct {
	Memory     *int64 `json:"memory,omitempty"`     // bytes
	MemorySwap *int64 `json:"memorySwap,omitempty"` // bytes of memory + swap
	CPUShares  *int64 `json:"cpuShares,omitempty"`
	CPUSet     string `json:"cpuset,omitempty"`
}

// Port protocols.
const (
	ProtocolTCP = "tcp"
	ProtocolUDP = "udp"
)

// PortMapping publishes a container port on the host. A nil ExternalPort is dynamic: the
// agent picks one from its port range.
type PortMapping struct {
	IP           string `json:"ip,omitempty"`
	InternalPort int    `json:"internalPort"`
	ExternalPort *int   `json:"externalPort,omitempty"`
	Protocol     string `json:"protocol,omitempty"` // tcp (default) or udp
}

// Proto is the mapping's protocol, tcp when unset.
func (p PortMapping) Proto() string {
	if p.Protocol == "" {
		return ProtocolTCP
	}
	return p.Protocol
}

// IsStatic tells whether the mapping asks for a fixed host port.
func (p PortMapping) IsStatic() bool { return p.ExternalPort != nil && *p.ExternalPort != 0 }

// ServicePorts lists the job's ports registered under one service endpoint.
type ServicePorts struct {
	Ports map[string]ServicePortParameters `json:"ports"`
}

// ServicePortParameters are the per-port registration settings.
type ServicePortParameters struct {
	Tags []string `json:"tags,omitempty"`
}

// Health check types.
const (
	HealthCheckHTTP = "http"
	HealthCheckTCP  = "tcp"
	HealthCheckExec = "exec"
)

// HealthCheck gates RUNNING: the task stays HEALTHCHECKING until the check passes. Which
// fields apply depends on Type: http uses Port and Path, tcp uses Port, exec uses Command.
type HealthCheck struct {
	Type    string   `json:"type"`
	Command []string `json:"command,omitempty"`
	Port    string   `json:"port,omitempty"` // a port name from the job's ports
	Path    string   `json:"path,omitempty"`
}
