package main

import (
	"io"
	"path/filepath"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

func TestStateDirFollowsDataDir(t *testing.T) {
	const solo = "/home/u/.helios/solo"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, filepath.Join(solo, "agent")},
		{[]string{"--data-dir", "/srv/solo2"}, "/srv/solo2/agent"},
		{[]string{"--data-dir", "/srv/solo2", "--state-dir", "/var/lib/agent"}, "/var/lib/agent"},
		{[]string{"--state-dir", "/var/lib/agent"}, "/var/lib/agent"},
	} {
		var got string
		app := &ucli.App{Flags: flags(solo), Writer: io.Discard, Action: func(c *ucli.Context) error {
			got = stateDir(c, solo)
			return nil
		}}
		if err := app.Run(append([]string{"helios-solo"}, tc.args...)); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got != tc.want {
			t.Errorf("%v: state dir %q, want %q", tc.args, got, tc.want)
		}
	}
}
