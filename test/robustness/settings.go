package robustness

import (
	"fmt"
	"strconv"
	"time"
)

// Settings bound one run. The environment overrides the defaults the test passes in:
// HELIOS_ROBUSTNESS_SEED replays a run, HELIOS_ROBUSTNESS_OPS and
// HELIOS_ROBUSTNESS_DURATION bound it by operation count and by time (whichever comes
// first ends the clients).
type Settings struct {
	Seed     int64
	Ops      int
	Duration time.Duration
}

// Environment variables read by ParseSettings.
const (
	EnvSeed     = "HELIOS_ROBUSTNESS_SEED"
	EnvOps      = "HELIOS_ROBUSTNESS_OPS"
	EnvDuration = "HELIOS_ROBUSTNESS_DURATION"
)

// ParseSettings reads the run's settings from getenv (os.Getenv in the test), starting
// from def. A seed is any int64; ops a positive count; a duration Go's syntax ("45s",
// "5m"), positive. An unparsable or out-of-range value is an error naming the variable.
func ParseSettings(getenv func(string) string, def Settings) (Settings, error) {
	s := def
	if v := getenv(EnvSeed); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return def, fmt.Errorf("%s=%q: want an integer seed: %w", EnvSeed, v, err)
		}
		s.Seed = n
	}
	if v := getenv(EnvOps); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return def, fmt.Errorf("%s=%q: want a positive operation count", EnvOps, v)
		}
		s.Ops = n
	}
	if v := getenv(EnvDuration); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return def, fmt.Errorf("%s=%q: want a positive duration such as 45s or 5m", EnvDuration, v)
		}
		s.Duration = d
	}
	return s, nil
}
