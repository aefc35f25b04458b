package model

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// DefaultDeniedHostPaths are the host paths a job may not bind-mount by default, each with
// whatever is under it: the root, the system's configuration and secrets, the kernel's
// interfaces, the Docker engine (its socket and data). The agent adds its own state dir.
var defaultDeniedHostPaths = []string{"/", "/etc", "/root", "/boot", "/proc", "/sys", "/dev", "/run", "/var/run", "/var/lib/docker"}

// DefaultDeniedHostPaths returns a copy of the default deny-list.
func DefaultDeniedHostPaths() []string { return slices.Clone(defaultDeniedHostPaths) }

// DefaultMaxRamdiskBytes caps one ramdisk's size= by default: 1 GiB.
const DefaultMaxRamdiskBytes int64 = 1 << 30

// unconfinedSecurityOpts switch a protection off; refused unless the policy allows them.
var unconfinedSecurityOpts = []string{"seccomp=unconfined", "apparmor=unconfined", "label=disable", "systempaths=unconfined"}

// JobPolicy is what a master (at create) and an agent (before it runs anything) allow a job
// to ask of a host. The zero value is not the default: use DefaultJobPolicy.
type JobPolicy struct {
	// AllowedHostPaths, when set, replaces the deny-list: a bind mount's host path must be
	// one of these or under one.
	AllowedHostPaths []string
	// DeniedHostPaths are refused, with whatever is under them, when AllowedHostPaths is
	// empty. "/" denies only the root itself (else it would deny everything).
	DeniedHostPaths []string
	// AllowUnconfined lets securityOpt switch seccomp, AppArmor, SELinux labels or masked
	// system paths off.
	AllowUnconfined bool
	// DenyHostNetwork and DenyContainerNetwork refuse networkMode host and container:<x>.
	DenyHostNetwork      bool
	DenyContainerNetwork bool
	// AllowedRuntimes, when set, lists the runtimes a job may name (empty: any).
	AllowedRuntimes []string
	// MaxRamdiskBytes caps each ramdisk's size=, which every ramdisk must give.
	MaxRamdiskBytes int64
}

// DefaultJobPolicy is the policy without any flag: no sensitive bind mounts, no unconfined
// security options, ramdisks up to 1 GiB; host and container networks and runtimes allowed.
func DefaultJobPolicy() JobPolicy {
	return JobPolicy{DeniedHostPaths: DefaultDeniedHostPaths(), MaxRamdiskBytes: DefaultMaxRamdiskBytes}
}

// Check lists what the job asks that the policy refuses, one message per problem naming the
// field and the rule; none means allowed. resolve maps a host path to what it really is
// (the agent follows symlinks); nil only cleans it.
func (p JobPolicy) Check(j *Job, resolve func(string) string) []string {
	var out []string
	for _, key := range sortedMapKeys(j.Volumes) {
		src := j.Volumes[key]
		if !strings.Contains(src, "/") {
			continue // a named or anonymous volume, not a host path
		}
		real := path.Clean(src)
		if resolve != nil {
			real = resolve(real)
		}
		if why := p.hostPathRefusal(real); why != "" {
			shown := src
			if real != path.Clean(src) {
				shown = fmt.Sprintf("%s (%s)", src, real)
			}
			out = append(out, fmt.Sprintf("Invalid volumes %q: host path %s %s", key, shown, why))
		}
	}
	for _, o := range j.SecurityOpt {
		if !p.AllowUnconfined && isUnconfined(o) {
			out = append(out, fmt.Sprintf("Invalid securityOpt %q: it switches a protection off, which this cluster does not allow", o))
		}
	}
	switch mode := j.NetworkMode; {
	case mode == "host" && p.DenyHostNetwork:
		out = append(out, `Invalid networkMode "host": this cluster does not allow host networking`)
	case strings.HasPrefix(mode, "container:") && p.DenyContainerNetwork:
		out = append(out, fmt.Sprintf("Invalid networkMode %q: this cluster does not allow joining another container's network", mode))
	}
	if rt := j.Runtime; rt != "" && len(p.AllowedRuntimes) > 0 && !slices.Contains(p.AllowedRuntimes, rt) {
		out = append(out, fmt.Sprintf("Invalid runtime %q: allowed are %s", rt, strings.Join(p.AllowedRuntimes, ", ")))
	}
	for _, mount := range sortedMapKeys(j.Ramdisks) {
		size, err := RamdiskSize(j.Ramdisks[mount])
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("Invalid ramdisks %q: %v", mount, err))
		case p.MaxRamdiskBytes > 0 && size > p.MaxRamdiskBytes:
			out = append(out, fmt.Sprintf("Invalid ramdisks %q: size %d bytes is over this cluster's limit of %d", mount, size, p.MaxRamdiskBytes))
		}
	}
	return out
}

// hostPathRefusal says why a cleaned host path may not be bind-mounted, "" if it may.
func (p JobPolicy) hostPathRefusal(real string) string {
	if len(p.AllowedHostPaths) > 0 {
		for _, a := range p.AllowedHostPaths {
			if under(real, path.Clean(a)) {
				return ""
			}
		}
		return "is not under an allowed host path (" + strings.Join(p.AllowedHostPaths, ", ") + ")"
	}
	for _, d := range p.DeniedHostPaths {
		d = path.Clean(d)
		if d == "/" && real == "/" || d != "/" && under(real, d) {
			return "is " + d + " or under it, which jobs may not mount"
		}
	}
	return ""
}

// under tells whether p is dir or inside it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// isUnconfined recognises the options that switch a protection off, in either spelling
// Docker accepts (seccomp=unconfined, seccomp:unconfined).
func isUnconfined(opt string) bool {
	o := strings.ToLower(strings.Replace(strings.TrimSpace(opt), ":", "=", 1))
	return slices.Contains(unconfinedSecurityOpts, o)
}

// RamdiskSize reads the size= of a ramdisk's mount options ("rw,size=32m") in bytes. A size
// is required; it takes k, m or g suffixes (powers of 1024), like tmpfs.
func RamdiskSize(opts string) (int64, error) {
	for _, o := range strings.Split(opts, ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(o), "size=")
		if !ok {
			continue
		}
		mult := int64(1)
		switch {
		case strings.HasSuffix(v, "k"), strings.HasSuffix(v, "K"):
			mult, v = 1<<10, v[:len(v)-1]
		case strings.HasSuffix(v, "m"), strings.HasSuffix(v, "M"):
			mult, v = 1<<20, v[:len(v)-1]
		case strings.HasSuffix(v, "g"), strings.HasSuffix(v, "G"):
			mult, v = 1<<30, v[:len(v)-1]
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n > (1<<62)/mult {
			return 0, fmt.Errorf("size=%s is not a size (bytes, or with k, m or g)", strings.TrimPrefix(o, "size="))
		}
		return n * mult, nil
	}
	return 0, fmt.Errorf("mount options %q give no size= (e.g. rw,size=64m): a ramdisk without one may take half the host's memory", opts)
}
