package model

import (
	"strings"
	"testing"
)

// The manual's full example job is allowed by the default policy: every documented option
// keeps working (label:user:USER, apparmor:PROFILE, runtime nvidia, a bind mount of a file).
func TestDefaultPolicyAllowsTheManualsExample(t *testing.T) {
	j := manualJob()
	j.Ramdisks = map[string]string{"/tmp": "rw,size=32m", "/run": "rw,noexec,nosuid,size=65535k"}
	if problems := DefaultJobPolicy().Check(&j, nil); len(problems) != 0 {
		t.Fatalf("the manual's job is refused: %v", problems)
	}
}

func TestJobPolicy(t *testing.T) {
	def := DefaultJobPolicy()
	allowList := def
	allowList.AllowedHostPaths = []string{"/srv/data", "/etc/myapp"}
	strict := def
	strict.DenyHostNetwork, strict.DenyContainerNetwork, strict.AllowedRuntimes = true, true, []string{"runc"}
	lax := def
	lax.AllowUnconfined = true
	for _, tc := range []struct {
		name   string
		policy JobPolicy
		job    Job
		want   string // a substring of the only problem; "" for none
	}{
		{"the host root", def, Job{Volumes: map[string]string{"/host": "/"}}, `host path / is / or under it`},
		{"the docker socket", def, Job{Volumes: map[string]string{"/s": "/var/run/docker.sock"}}, "is /var/run or under it"},
		{"etc, uncleaned", def, Job{Volumes: map[string]string{"/e": "/srv/../etc/shadow"}}, "is /etc or under it"},
		{"docker's data", def, Job{Volumes: map[string]string{"/d:ro": "/var/lib/docker/volumes"}}, "/var/lib/docker"},
		{"proc", def, Job{Volumes: map[string]string{"/p": "/proc/1"}}, "/proc"},
		{"an ordinary path", def, Job{Volumes: map[string]string{"/d": "/srv/data"}}, ""},
		{"etcetera is not etc", def, Job{Volumes: map[string]string{"/d": "/etcetera"}}, ""},
		{"named volume", def, Job{Volumes: map[string]string{"/d": "my-vol"}}, ""},
		{"allow-list hit", allowList, Job{Volumes: map[string]string{"/d": "/etc/myapp/conf.yaml"}}, ""},
		{"allow-list miss", allowList, Job{Volumes: map[string]string{"/d": "/srv/other"}}, "not under an allowed host path"},
		{"seccomp unconfined", def, Job{SecurityOpt: []string{"seccomp=unconfined"}}, "switches a protection off"},
		{"apparmor colon spelling", def, Job{SecurityOpt: []string{"apparmor:unconfined"}}, "switches a protection off"},
		{"label disable", def, Job{SecurityOpt: []string{"label=disable"}}, "switches a protection off"},
		{"allowed when lax", lax, Job{SecurityOpt: []string{"seccomp=unconfined"}}, ""},
		{"a profile", def, Job{SecurityOpt: []string{"apparmor:PROFILE", "label:user:USER"}}, ""},
		{"host network allowed", def, Job{NetworkMode: "host"}, ""},
		{"host network denied", strict, Job{NetworkMode: "host"}, "host networking"},
		{"container network denied", strict, Job{NetworkMode: "container:abc"}, "another container's network"},
		{"runtime not listed", strict, Job{Runtime: "nvidia"}, `allowed are runc`},
		{"ramdisk without size", def, Job{Ramdisks: map[string]string{"/r": "rw"}}, "give no size="},
		{"ramdisk too big", def, Job{Ramdisks: map[string]string{"/r": "size=1000g"}}, "over this cluster's limit"},
		{"ramdisk fits", def, Job{Ramdisks: map[string]string{"/r": "rw,size=1g"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.policy.Check(&tc.job, nil)
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("refused: %v", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Fatalf("problems %v, want one containing %q", got, tc.want)
			}
		})
	}
}

// The agent resolves symlinks: a harmless-looking path that leads to a denied one is refused.
func TestJobPolicyChecksTheResolvedPath(t *testing.T) {
	j := Job{Volumes: map[string]string{"/d": "/srv/innocent"}}
	got := DefaultJobPolicy().Check(&j, func(string) string { return "/etc" })
	if len(got) != 1 || !strings.Contains(got[0], "/srv/innocent (/etc)") {
		t.Fatalf("problems %v, want the link and its target named", got)
	}
}

func TestRamdiskSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"rw,size=32m", 32 << 20, false},
		{"size=65535k,noexec", 65535 << 10, false},
		{"size=4096", 4096, false},
		{"size=2G", 2 << 30, false},
		{"rw", 0, true},
		{"size=", 0, true},
		{"size=50%", 0, true},
		{"size=-1m", 0, true},
		{"size=99999999999999999999g", 0, true},
	} {
		got, err := RamdiskSize(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("RamdiskSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func FuzzRamdiskSize(f *testing.F) {
	for _, s := range []string{"rw,size=32m", "size=1g", "size=", "size=9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, opts string) {
		if n, err := RamdiskSize(opts); err == nil && n <= 0 {
			t.Fatalf("RamdiskSize(%q) = %d without error", opts, n)
		}
	})
}
