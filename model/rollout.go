package model

import "fmt"

// RolloutOptions steer a rolling update. Nil fields are unset so that the request, the job
// and the defaults can be layered (see Resolve).
type RolloutOptions struct {
	Timeout        *int64  `json:"timeout,omitempty"` // seconds a step may take
	Parallelism    *int    `json:"parallelism,omitempty"`
	Migrate        *bool   `json:"migrate,omitempty"`
	Overlap        *bool   `json:"overlap,omitempty"`
	Token          *string `json:"token,omitempty"`
	IgnoreFailures *bool   `json:"ignoreFailures,omitempty"`
	// Not the original's. AutoRollback puts the hosts a failed rollout changed back on
	// what they ran before; Canary pauses the rollout once that many hosts run the new
	// job, until the group is promoted (0: no pause).
	AutoRollback *bool `json:"autoRollback,omitempty"`
	Canary       *int  `json:"canary,omitempty"`
}

// Rollout defaults, the original's.
const (
	DefaultRolloutTimeout     int64 = 300
	DefaultRolloutParallelism       = 1
)

// DefaultRolloutOptions has every field of the original set to its default; the fields of
// our own (AutoRollback, Canary) stay unset, which means off.
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
		if out.AutoRollback == nil {
			out.AutoRollback = l.AutoRollback
		}
		if out.Canary == nil {
			out.Canary = l.Canary
		}
	}
	return out
}

// Problems lists what is wrong with the options, one message per field; nil when none.
func (o *RolloutOptions) Problems() []string {
	if o == nil {
		return nil
	}
	var out []string
	if o.Parallelism != nil && *o.Parallelism < 1 {
		out = append(out, fmt.Sprintf("Invalid rolloutOptions.parallelism %d: must be >= 1", *o.Parallelism))
	}
	if o.Timeout != nil && *o.Timeout <= 0 {
		out = append(out, fmt.Sprintf("Invalid rolloutOptions.timeout %d: must be > 0 seconds", *o.Timeout))
	}
	if o.Canary != nil && *o.Canary < 0 {
		out = append(out, fmt.Sprintf("Invalid rolloutOptions.canary %d: must be >= 0 hosts", *o.Canary))
	}
	return out
}

// RolloutSettings are rollout options with every value decided, for the engine to read.
type RolloutSettings struct {
	Timeout        int64 // seconds a step may take
	Parallelism    int
	Migrate        bool
	Overlap        bool
	Token          string
	IgnoreFailures bool
	AutoRollback   bool
	Canary         int
}

// Settings reads the options, an unset one as its zero value: call it on the result of
// ResolveRolloutOptions.
func (o RolloutOptions) Settings() RolloutSettings {
	return RolloutSettings{
		Timeout: deref(o.Timeout), Parallelism: deref(o.Parallelism), Migrate: deref(o.Migrate),
		Overlap: deref(o.Overlap), Token: deref(o.Token), IgnoreFailures: deref(o.IgnoreFailures),
		AutoRollback: deref(o.AutoRollback), Canary: deref(o.Canary),
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
