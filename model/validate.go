package model

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ValidateOptions are the master's settings that validation depends on.
type ValidateOptions struct {
	// CapabilityWhitelist lists the capabilities a job may add; none when empty.
	CapabilityWhitelist []string
	// Now is the time an expires date must not be before. The zero time checks nothing.
	Now time.Time
	// Policy, when set, is the cluster's job policy (host paths, security options,
	// networks, runtimes, ramdisk sizes).
	Policy *JobPolicy
}

// The package's regular expressions are compiled on first use (sync.OnceValue), not at init:
// every CLI command links this package, and most never validate a field.
var (
	hostnameRE      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`) })
	serviceNameRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[_\-\w]+$`) })
	volumeNameRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`) })
	cpusetRE        = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$`) })
	containerNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\S+$`) })
)

// ValidateJob checks a job before the master stores it. It returns one message per problem,
// each naming the field and the rule it breaks, in a stable order; none means valid. The id
// must be complete: the master computes a missing hash before validating.
func ValidateJob(j *Job, opts ValidateOptions) []string {
	v := &validator{job: j, opts: opts}
	v.id()
	v.image()
	v.hostname()
	v.ports()
	v.registration()
	v.volumes()
	v.expires()
	v.healthCheck()
	v.networkMode()
	v.capabilities()
	v.ramdisks()
	v.timing()
	v.resources()
	v.env()
	v.securityOpt()
	v.rolloutOptions()
	v.tokens()
	if opts.Policy != nil {
		v.errs = append(v.errs, opts.Policy.Check(j, nil)...)
	}
	return v.errs
}

type validator struct {
	job  *Job
	opts ValidateOptions
	errs []string
}

func (v *validator) addf(format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

// tokens refuses the marker masters show in place of a job's token: a job copied from one
// (create -t, or -f with inspect --json's output) must be given its token again.
func (v *validator) tokens() {
	const ask = "the marker masters show non-admins instead of the job's token: give the token with --token"
	if v.job.Token == HiddenToken {
		v.addf("Invalid token: %s", ask)
	}
	if ro := v.job.RolloutOptions; ro != nil && ro.Token != nil && *ro.Token == HiddenToken {
		v.addf("Invalid rolloutOptions.token: %s (or --rollout-options token=…)", ask)
	}
}

func (v *validator) id() {
	id := string(v.job.ID)
	if len(id) > MaxJobIDLength {
		v.addf("Invalid id: %d characters, at most %d (name and version together at most %d)", len(id), MaxJobIDLength, MaxJobIDLength-42)
		return
	}
	parts := strings.Split(id, ":")
	if len(parts) != 3 {
		v.addf("Invalid id %q: must be name:version:hash", id)
		return
	}
	name, version, hash := parts[0], parts[1], parts[2]
	ok := true
	if !nameVersionRE().MatchString(name) {
		v.addf("Invalid id %q: job name %q must match [0-9a-zA-Z-_.]+", id, name)
		ok = false
	}
	if !nameVersionRE().MatchString(version) {
		v.addf("Invalid id %q: job version %q must match [0-9a-zA-Z-_.]+", id, version)
		ok = false
	}
	if !ok {
		return
	}
	want, err := ComputeJobHash(name, version, v.job)
	if err != nil {
		v.addf("Invalid id %q: cannot compute the job's hash: %v", id, err)
		return
	}
	if hash != want {
		v.addf("Invalid id %q: hash %q does not match the hash computed from the job's configuration, %q", id, hash, want)
	}
}

func (v *validator) image() {
	img := v.job.Image
	if img == "" {
		v.addf("Invalid image \"\": an image is required")
		return
	}
	// CheckImageRef also takes an image id (64 hex digits or sha256:...), which Docker can
	// run too.
	if err := CheckImageRef(img); err != nil {
		v.addf("Invalid image %q: not a valid Docker image reference (%v)", img, err)
	}
}

func (v *validator) hostname() {
	if h := v.job.Hostname; h != "" && !hostnameRE().MatchString(h) {
		v.addf("Invalid hostname %q: must match %s", h, hostnameRE())
	}
}

func (v *validator) ports() {
	seen := map[string]string{} // "8080/tcp" -> port name
	for _, name := range sortedMapKeys(v.job.Ports) {
		p := v.job.Ports[name]
		field := "ports." + name
		if name == "" {
			v.addf("Invalid port name \"\" in ports: port names must be non-empty")
		}
		if p.Protocol != "" && p.Protocol != ProtocolTCP && p.Protocol != ProtocolUDP {
			v.addf("Invalid %s.protocol %q: must be tcp or udp", field, p.Protocol)
		}
		if p.InternalPort < 0 || p.InternalPort > 65535 {
			v.addf("Invalid %s.internalPort %d: must be 0-65535", field, p.InternalPort)
		}
		if p.ExternalPort != nil && (*p.ExternalPort < 0 || *p.ExternalPort > 65535) {
			v.addf("Invalid %s.externalPort %d: must be 0-65535", field, *p.ExternalPort)
		}
		if p.IP != "" {
			if _, err := netip.ParseAddr(p.IP); err != nil {
				v.addf("Invalid %s.ip %q: not a valid IP address", field, p.IP)
			}
		}
		if p.IsStatic() {
			key := strconv.Itoa(*p.ExternalPort) + "/" + p.Proto()
			if other, dup := seen[key]; dup {
				v.addf("Invalid %s.externalPort %d: ports %q and %q both ask for host port %s", field, *p.ExternalPort, other, name, key)
			} else {
				seen[key] = name
			}
		}
	}
}

func (v *validator) registration() {
	if d := v.job.RegistrationDomain; d != "" {
		if err := ValidateDomain(d); err != nil {
			v.addf("Invalid registrationDomain: %v", err)
		}
	}
	for _, key := range sortedMapKeys(v.job.Registration) {
		field := fmt.Sprintf("registration %q", key)
		service, proto, hasProto := strings.Cut(key, "/")
		if !serviceNameRE().MatchString(service) {
			v.addf("Invalid %s: service name %q must match [_\\-\\w]+", field, service)
		}
		// The protocol is the service discovery's, not the port's: the original's manual
		// registers "fooservice/http", so any word is allowed, not only tcp and udp.
		if hasProto && !serviceNameRE().MatchString(proto) {
			v.addf("Invalid %s: protocol %q must match [_\\-\\w]+ (the key is service[/protocol])", field, proto)
		}
		// Each becomes one DNS label, "_" + name (docs/discovery.md).
		for _, part := range []string{service, proto} {
			if len(part) >= MaxHostLabelLength {
				v.addf("Invalid %s: %q is %d characters; at most %d, as DNS adds a '_' to make a label of it", field, clip(part), len(part), MaxHostLabelLength-1)
			}
		}
		ports := v.job.Registration[key].Ports
		if len(ports) == 0 && len(v.job.Ports) != 1 {
			v.addf("Invalid %s: names no port, which is only allowed when the job has exactly one port (it has %d)", field, len(v.job.Ports))
		}
		for _, p := range sortedMapKeys(ports) {
			if _, ok := v.job.Ports[p]; !ok {
				v.addf("Invalid %s: port %q is not one of the job's ports", field, p)
			}
		}
	}
}

func (v *validator) volumes() {
	mounts := map[string]string{} // cleaned container path -> volume key
	for _, key := range sortedMapKeys(v.job.Volumes) {
		field := fmt.Sprintf("volumes %q", key)
		parts := strings.Split(key, ":")
		target := parts[0]
		switch {
		case len(parts) > 2:
			v.addf("Invalid %s: at most one mode suffix (:ro or :rw) is allowed", field)
		case len(parts) == 2 && parts[1] != "ro" && parts[1] != "rw":
			v.addf("Invalid %s: mode %q must be ro or rw", field, parts[1])
		}
		switch {
		case !path.IsAbs(target):
			v.addf("Invalid %s: container path %q must be absolute", field, target)
		case path.Clean(target) == "/":
			v.addf("Invalid %s: container path must not be /", field)
		default:
			if other, dup := mounts[path.Clean(target)]; dup {
				v.addf("Invalid %s: volumes %q and %q mount the same container path", field, other, key)
			} else {
				mounts[path.Clean(target)] = key
			}
		}
		src := v.job.Volumes[key]
		switch {
		case src == "":
			// An anonymous data volume.
		case strings.Contains(src, "/"):
			if !path.IsAbs(src) {
				v.addf("Invalid %s: host path %q must be absolute", field, src)
			}
		case !volumeNameRE().MatchString(src):
			v.addf("Invalid %s: volume name %q must match %s (a source with / is a host path)", field, src, volumeNameRE())
		}
	}
}

func (v *validator) expires() {
	e := v.job.Expires
	if e == nil {
		return
	}
	if e.Year() < 0 || e.Year() > 9999 || e.UTC().Year() < 0 || e.UTC().Year() > 9999 {
		v.addf("Invalid expires %s: year must be 0000-9999", e)
		return
	}
	if e.Before(v.opts.Now) {
		v.addf("Invalid expires %s: in the past (now is %s)", e.Format(time.RFC3339), v.opts.Now.UTC().Format(time.RFC3339))
	}
}

func (v *validator) healthCheck() {
	hc := v.job.HealthCheck
	if hc == nil {
		return
	}
	checkPort := func() {
		switch {
		case hc.Port == "":
			v.addf("Invalid healthCheck.port: a health check of type %s needs a port name", hc.Type)
		default:
			if _, ok := v.job.Ports[hc.Port]; !ok {
				v.addf("Invalid healthCheck.port %q: not one of the job's ports", hc.Port)
			}
		}
	}
	refuse := func(field string, set bool) {
		if set {
			v.addf("Invalid healthCheck.%s: a health check of type %s takes no %s", field, hc.Type, field)
		}
	}
	switch hc.Type {
	case HealthCheckExec:
		if len(hc.Command) == 0 || hc.Command[0] == "" {
			v.addf("Invalid healthCheck.command: an exec health check needs a non-empty command")
		}
		refuse("port", hc.Port != "")
		refuse("path", hc.Path != "")
	case HealthCheckHTTP:
		checkPort()
		if !strings.HasPrefix(hc.Path, "/") {
			v.addf("Invalid healthCheck.path %q: must start with /", hc.Path)
		}
		refuse("command", len(hc.Command) > 0)
	case HealthCheckTCP:
		checkPort()
		refuse("path", hc.Path != "")
		refuse("command", len(hc.Command) > 0)
	default:
		v.addf("Invalid healthCheck.type %q: must be http, tcp or exec", hc.Type)
	}
}

func (v *validator) networkMode() {
	m := v.job.NetworkMode
	switch m {
	case "", "bridge", "host", "none":
		return
	}
	if name, ok := strings.CutPrefix(m, "container:"); ok {
		if !containerNameRE().MatchString(name) {
			v.addf("Invalid networkMode %q: container:<name|id> needs a container name or id", m)
		}
		return
	}
	v.addf("Invalid networkMode %q: must be bridge, host, none or container:<name|id>", m)
}

func (v *validator) capabilities() {
	var bad []string
	for _, c := range v.job.AddCapabilities {
		if !slices.Contains(v.opts.CapabilityWhitelist, c) {
			bad = append(bad, c)
		}
	}
	if len(bad) == 0 {
		return
	}
	allowed := "none"
	if len(v.opts.CapabilityWhitelist) > 0 {
		allowed = strings.Join(v.opts.CapabilityWhitelist, ", ")
	}
	v.addf("Invalid addCapabilities %s: not in the master's capability whitelist (allowed: %s)", strings.Join(bad, ", "), allowed)
}

func (v *validator) ramdisks() {
	volumes := map[string]bool{}
	for key := range v.job.Volumes {
		target, _, _ := strings.Cut(key, ":")
		volumes[path.Clean(target)] = true
	}
	for _, mount := range sortedMapKeys(v.job.Ramdisks) {
		field := fmt.Sprintf("ramdisks %q", mount)
		switch {
		case !path.IsAbs(mount):
			v.addf("Invalid %s: mount point must be absolute", field)
		case path.Clean(mount) == "/":
			v.addf("Invalid %s: mount point must not be /", field)
		case volumes[path.Clean(mount)]:
			v.addf("Invalid %s: mount point is also a volume's container path", field)
		}
	}
}

func (v *validator) timing() {
	if g := v.job.GracePeriod; g != nil {
		if *g < 0 {
			v.addf("Invalid gracePeriod %d: must be >= 0", *g)
		}
		if *g > 0 {
			var static []string
			for _, name := range sortedMapKeys(v.job.Ports) {
				if v.job.Ports[name].IsStatic() {
					static = append(static, strconv.Quote(name))
				}
			}
			if len(static) > 0 {
				v.addf("Invalid gracePeriod %d: not allowed with static external ports (%s): during the grace period the old container still holds the port, so the new container cannot bind it and the rollout times out", *g, strings.Join(static, ", "))
			}
		}
	}
	if s := v.job.SecondsToWaitBeforeKill; s != nil && *s < 0 {
		v.addf("Invalid secondsToWaitBeforeKill %d: must be >= 0", *s)
	}
}

func (v *validator) resources() {
	r := v.job.Resources
	if r == nil {
		return
	}
	positive := func(field string, n *int64) {
		if n != nil && *n <= 0 {
			v.addf("Invalid resources.%s %d: must be > 0", field, *n)
		}
	}
	positive("memory", r.Memory)
	positive("memorySwap", r.MemorySwap)
	positive("cpuShares", r.CPUShares)
	if r.Memory != nil && r.MemorySwap != nil && *r.Memory > 0 && *r.MemorySwap < *r.Memory {
		v.addf("Invalid resources.memorySwap %d: must be >= resources.memory %d (it is memory plus swap)", *r.MemorySwap, *r.Memory)
	}
	if r.CPUSet != "" && !validCPUSet(r.CPUSet) {
		v.addf("Invalid resources.cpuset %q: must list CPUs and ranges like 0-3,5", r.CPUSet)
	}
}

// validCPUSet checks "0-3,5" syntax and that each range runs upwards.
func validCPUSet(s string) bool {
	if !cpusetRE().MatchString(s) {
		return false
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			continue
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a > b {
			return false
		}
	}
	return true
}

func (v *validator) env() {
	for _, k := range sortedMapKeys(v.job.Env) {
		switch {
		case k == "":
			v.addf("Invalid env key \"\": must be non-empty")
		case strings.Contains(k, "="):
			v.addf("Invalid env key %q: must not contain =", k)
		}
	}
}

func (v *validator) securityOpt() {
	for i, o := range v.job.SecurityOpt {
		if strings.TrimSpace(o) == "" {
			v.addf("Invalid securityOpt[%d]: must be non-empty", i)
		}
	}
}

func (v *validator) rolloutOptions() {
	for _, p := range v.job.RolloutOptions.Problems() {
		v.addf("%s", p)
	}
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
