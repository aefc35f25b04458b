package model

// RolloutOptions steer a rolling update. Nil fields are unset so that the request, the job
// and the defaults can be layered (see Resolve).
type RolloutOptions struct {
	Timeout        *int64  `json:"timeout,omitempty"` // seconds a step may take
	Parallelism    *int    `json:"parallelism,omitempty"`
	Migrate        *bool   `json:"migrate,omitempty"`
	Overlap        *bool   `json:"overlap,omitempty"`
	Token          *string `json:"token,omitempty"`
	IgnoreFailures *bool   `json:"ignoreFailures,omitempty"`
}

// Rollout defaults, the original's.
const (
	DefaultRolloutTimeout     int64 = 300
	DefaultRolloutParallelism       = 1
)

// DefaultRolloutOptions has every field set to the original's default.
func DefaultRolloutOptions() RolloutOptions {
	t, p, f, tok := DefaultRolloutTimeout, DefaultRolloutParallelism, false, ""
	return RolloutOptions{Timeout: &t, Parallelism: &p, Migrate: &f, Overlap: &f, Token: &tok, IgnoreFailures: &f}
}

// ResolveRolloutOptions layers option sets: for each field the first set that has it wins,
// then the default. Pass the request's options first, then the job's.
func ResolveRolloutOptions(layers ...*RolloutOptions) RolloutOptions {
	out := RolloutOptions{}
	for _, l := range append(layers, ptr(DefaultRolloutOptions())) {
		if l == nil {
			continue
		}
		if out.Timeout == nil {
			out.Timeout = l.Timeout
		}
		if out.Parallelism == nil {
			out.Parallelism = l.Parallelism
		}
		if out.Migrate == nil {
			out.Migrate = l.Migrate
		}
		if out.Overlap == nil {
			out.Overlap = l.Overlap
		}
		if out.Token == nil {
			out.Token = l.Token
		}
		if out.IgnoreFailures == nil {
			out.IgnoreFailures = l.IgnoreFailures
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// RollingUpdateReason says why a deployment group's rollout started.
type RollingUpdateReason string

// Rolling update reasons.
const (
	ReasonManual       RollingUpdateReason = "MANUAL"
	ReasonHostsChanged RollingUpdateReason = "HOSTS_CHANGED"
)

// DeploymentGroup is a set of hosts chosen by label selectors onto which one job is rolled.
type DeploymentGroup struct {
	Name                string              `json:"name"`
	HostSelectors       []HostSelector      `json:"hostSelectors"`
	JobID               JobID               `json:"jobId,omitempty"`
	RolloutOptions      *RolloutOptions     `json:"rolloutOptions,omitempty"`
	RollingUpdateReason RollingUpdateReason `json:"rollingUpdateReason,omitempty"`
}
