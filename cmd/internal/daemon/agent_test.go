package daemon

import (
	"strings"
	"testing"
	"time"

	ucli "github.com/urfave/cli/v2"
)

// parseAgent runs the agent flags over args and returns what ParseAgentFlags made of them.
func parseAgent(t *testing.T, args ...string) (AgentSettings, error) {
	t.Helper()
	var (
		s   AgentSettings
		err error
	)
	app := &ucli.App{Name: "agent", Flags: append(AgentFlags("me", "metrics"), DiscoveryFlags()...), Action: func(c *ucli.Context) error {
		s, err = ParseAgentFlags(c, "metrics")
		return nil
	}}
	if rerr := app.Run(append([]string{"agent"}, args...)); rerr != nil {
		t.Fatal(rerr)
	}
	return s, err
}

func TestAgentTimingFlagsDefaultToTheOriginal(t *testing.T) {
	s, err := parseAgent(t)
	if err != nil {
		t.Fatal(err)
	}
	want := AgentSettings{LeaseTTL: 10 * time.Second, Resync: 30 * time.Second, RestartDelay: time.Second,
		HealthCheckInterval: time.Second, HealthCheckMax: 30 * time.Second, FlappingRuns: 10, FlappingWindow: time.Minute,
		FlappingRestartDelay: 30 * time.Second, ImageMissingRetry: 2 * time.Minute, ImagePullRetry: 2 * time.Minute}
	got := AgentSettings{LeaseTTL: s.LeaseTTL, Resync: s.Resync, RestartDelay: s.RestartDelay, HealthCheckInterval: s.HealthCheckInterval,
		HealthCheckMax: s.HealthCheckMax, FlappingRuns: s.FlappingRuns, FlappingWindow: s.FlappingWindow,
		FlappingRestartDelay: s.FlappingRestartDelay, ImageMissingRetry: s.ImageMissingRetry, ImagePullRetry: s.ImagePullRetry}
	if got.LeaseTTL != want.LeaseTTL || got.Resync != want.Resync || got.RestartDelay != want.RestartDelay ||
		got.HealthCheckInterval != want.HealthCheckInterval || got.HealthCheckMax != want.HealthCheckMax ||
		got.FlappingRuns != want.FlappingRuns || got.FlappingWindow != want.FlappingWindow ||
		got.FlappingRestartDelay != want.FlappingRestartDelay || got.ImageMissingRetry != want.ImageMissingRetry ||
		got.ImagePullRetry != want.ImagePullRetry || s.AlwaysPull {
		t.Errorf("defaults %+v\nwant %+v", got, want)
	}
}

func TestAgentTimingFlags(t *testing.T) {
	s, err := parseAgent(t, "--flapping-runs", "3", "--flapping-window", "2s", "--health-check-interval", "50ms",
		"--health-check-max-interval", "1s", "--always-pull", "--docker-config", "/x/config.json", "--image-missing-retry", "5s")
	if err != nil {
		t.Fatal(err)
	}
	if s.FlappingRuns != 3 || s.FlappingWindow != 2*time.Second || s.HealthCheckInterval != 50*time.Millisecond ||
		s.HealthCheckMax != time.Second || !s.AlwaysPull || s.DockerConfig != "/x/config.json" || s.ImageMissingRetry != 5*time.Second {
		t.Errorf("settings %+v", s)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--flapping-runs", "0"}, "--flapping-runs"},
		{[]string{"--health-check-interval", "2s", "--health-check-max-interval", "1s"}, "--health-check-max-interval"},
		{[]string{"--image-pull-retry", "0s"}, "--image-pull-retry"},
	} {
		if _, err := parseAgent(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want one naming %s", tc.args, err, tc.want)
		}
	}
}
