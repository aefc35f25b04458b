package model

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestResolveRolloutOptions(t *testing.T) {
	defaults := DefaultRolloutOptions()
	tests := []struct {
		name    string
		request *RolloutOptions
		job     *RolloutOptions
		want    RolloutOptions
	}{
		{
			// The manual's example: `helios rolling-update --overlap --parallelism=3` with a
			// job whose rolloutOptions say parallelism 2, overlap false, ignoreFailures false.
			name:    "manual example",
			request: &RolloutOptions{Overlap: boolp(true), Parallelism: intp(3)},
			job:     &RolloutOptions{Parallelism: intp(2), Overlap: boolp(false), IgnoreFailures: boolp(false)},
			want: RolloutOptions{Migrate: boolp(false), Parallelism: intp(3), Timeout: int64p(300),
				Overlap: boolp(true), Token: strp(""), IgnoreFailures: boolp(false)},
		},
		{name: "nothing set gives the defaults", want: defaults},
		{
			name: "job beats defaults",
			job:  &RolloutOptions{Timeout: int64p(1000), Token: strp("t"), Migrate: boolp(true)},
			want: RolloutOptions{Migrate: boolp(true), Parallelism: intp(1), Timeout: int64p(1000),
				Overlap: boolp(false), Token: strp("t"), IgnoreFailures: boolp(false)},
		},
		{
			name:    "request false beats job true",
			request: &RolloutOptions{IgnoreFailures: boolp(false), Token: strp("")},
			job:     &RolloutOptions{IgnoreFailures: boolp(true), Token: strp("secret")},
			want:    defaults,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResolveRolloutOptions(tt.request, tt.job)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %s, want %s", dumpRollout(got), dumpRollout(tt.want))
			}
		})
	}
}

func TestDefaultRolloutOptions(t *testing.T) {
	d := DefaultRolloutOptions()
	if *d.Timeout != 300 || *d.Parallelism != 1 || *d.Migrate || *d.Overlap || *d.Token != "" || *d.IgnoreFailures {
		t.Errorf("defaults = %s", dumpRollout(d))
	}
	// Each call returns fresh pointers: a caller changing one must not change the next.
	*d.Timeout = 1
	if *DefaultRolloutOptions().Timeout != 300 {
		t.Error("DefaultRolloutOptions shares state between calls")
	}
}

func dumpRollout(o RolloutOptions) string {
	raw, _ := json.Marshal(o)
	return string(raw)
}
