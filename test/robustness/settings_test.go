package robustness

import (
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	def := Settings{Seed: 7, Ops: 100, Duration: time.Second}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    Settings
		wantErr bool
	}{
		{"defaults", nil, def, false},
		{"seed", map[string]string{EnvSeed: "-42"}, Settings{Seed: -42, Ops: 100, Duration: time.Second}, false},
		{"all", map[string]string{EnvSeed: "1", EnvOps: "5000", EnvDuration: "5m"}, Settings{Seed: 1, Ops: 5000, Duration: 5 * time.Minute}, false},
		{"bad seed", map[string]string{EnvSeed: "x"}, def, true},
		{"zero ops", map[string]string{EnvOps: "0"}, def, true},
		{"negative ops", map[string]string{EnvOps: "-3"}, def, true},
		{"bad duration", map[string]string{EnvDuration: "5"}, def, true},
		{"negative duration", map[string]string{EnvDuration: "-1s"}, def, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSettings(func(k string) string { return tc.env[k] }, def)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseSettings(f *testing.F) {
	f.Add("1", "10", "45s")
	f.Add("x", "-1", "5")
	f.Fuzz(func(t *testing.T, seed, ops, dur string) {
		env := map[string]string{EnvSeed: seed, EnvOps: ops, EnvDuration: dur}
		def := Settings{Seed: 1, Ops: 1, Duration: time.Second}
		s, err := ParseSettings(func(k string) string { return env[k] }, def)
		if err != nil {
			if s != def {
				t.Fatalf("an error left %+v, want the defaults", s)
			}
			return
		}
		if s.Ops <= 0 || s.Duration <= 0 {
			t.Fatalf("accepted %+v", s)
		}
	})
}
