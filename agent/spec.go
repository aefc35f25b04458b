package agent

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	"github.com/helios-go/helios/model"
)

// HostDefaults are the agent-wide settings applied to every container it starts
// (--env, --dns, --bind, --add-host, --syslog-redirect-to).
type HostDefaults struct {
	Env        map[string]string
	DNS        []string
	Binds      []Mount
	ExtraHosts []string // host:ip
	// SyslogRedirectTo is host:port of a syslog server receiving every container's output.
	SyslogRedirectTo string
}

// specInput is what a container is made from: the job, the agent's settings and the external
// ports chosen for it.
type specInput struct {
	Host     string // agent --name, used in labels, names and HELIOS_PORT_ values
	Job      *model.Job
	Defaults HostDefaults
	// Ports maps a port name to its external port; a dynamic port missing here stays 0.
	Ports map[string]int
}

// buildSpec turns a job into a container spec. Name and the spec-hash label are left for
// the caller: the name is random and the hash is computed from this spec with no dynamic ports.
func buildSpec(in specInput) ContainerSpec {
	j := in.Job
	s := ContainerSpec{
		Image:       j.Image,
		Cmd:         append([]string(nil), j.Command...),
		Hostname:    j.Hostname,
		Tmpfs:       maps.Clone(j.Ramdisks),
		CapAdd:      append([]string(nil), j.AddCapabilities...),
		CapDrop:     append([]string(nil), j.DropCapabilities...),
		SecurityOpt: append([]string(nil), j.SecurityOpt...),
		NetworkMode: j.NetworkMode,
		Runtime:     j.Runtime,
		Init:        true, // so a shell as PID 1 still ends on SIGTERM
		DNS:         append([]string(nil), in.Defaults.DNS...),
		ExtraHosts:  append([]string(nil), in.Defaults.ExtraHosts...),
	}
	if r := j.Resources; r != nil {
		if r.Memory != nil {
			s.Memory = *r.Memory
		}
		if r.MemorySwap != nil {
			s.MemorySwap = *r.MemorySwap
		}
		if r.CPUShares != nil {
			s.CPUShares = *r.CPUShares
		}
		s.CPUSet = r.CPUSet
	}
	if in.Defaults.SyslogRedirectTo != "" {
		s.SyslogAddress = "udp://" + in.Defaults.SyslogRedirectTo
		s.SyslogTag = string(j.ID)
	}

	// Labels: the job's, then ours, which the job cannot override.
	s.Labels = maps.Clone(j.Labels)
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.Labels[LabelHost] = in.Host
	s.Labels[LabelJobID] = string(j.ID)

	// Ports, in name order so specs compare equal.
	names := make([]string, 0, len(j.Ports))
	for n := range j.Ports {
		names = append(names, n)
	}
	sort.Strings(names)
	env := maps.Clone(in.Defaults.Env)
	if env == nil {
		env = map[string]string{}
	}
	for _, n := range names {
		pm := j.Ports[n]
		ext := in.Ports[n]
		if pm.IsStatic() {
			ext = *pm.ExternalPort
		}
		s.Ports = append(s.Ports, PortBinding{Name: n, ContainerPort: pm.InternalPort, HostPort: ext, Proto: pm.Proto(), HostIP: pm.IP})
		env["HELIOS_PORT_"+n] = in.Host + ":" + strconv.Itoa(ext)
	}
	for k, v := range j.Env { // the job's env wins
		env[k] = v
	}
	for k, v := range env {
		s.Env = append(s.Env, k+"="+v)
	}
	sort.Strings(s.Env)

	s.Mounts = append(s.Mounts, in.Defaults.Binds...)
	vols := make([]string, 0, len(j.Volumes))
	for k := range j.Volumes {
		vols = append(vols, k)
	}
	sort.Strings(vols)
	for _, k := range vols {
		s.Mounts = append(s.Mounts, jobMount(k, j.Volumes[k]))
	}
	return s
}

// jobMount reads one entry of a job's volumes: "containerPath[:ro|rw]" -> an absolute host
// path (bind), a volume name, or "" (a fresh data volume).
func jobMount(key, source string) Mount {
	target, ro := key, false
	if i := strings.LastIndex(key, ":"); i >= 0 {
		switch key[i+1:] {
		case "ro":
			target, ro = key[:i], true
		case "rw":
			target = key[:i]
		}
	}
	m := Mount{Type: MountVolume, Source: source, Target: target, ReadOnly: ro}
	if strings.HasPrefix(source, "/") {
		m.Type = MountBind
	}
	return m
}

// specHash identifies what a container was made from, leaving out what changes between two
// creations of the same task (the name, the dynamic ports chosen). A running container whose
// hash differs from the wanted one is recreated.
func specHash(s ContainerSpec, job *model.Job) string {
	s.Name = ""
	s.Labels = maps.Clone(s.Labels)
	delete(s.Labels, LabelSpecHash)
	s.Ports = append([]PortBinding(nil), s.Ports...)
	var env []string
	dynamic := map[string]bool{}
	for i, p := range s.Ports {
		if pm, ok := job.Ports[p.Name]; ok && !pm.IsStatic() {
			s.Ports[i].HostPort = 0
			dynamic["HELIOS_PORT_"+p.Name] = true
		}
	}
	for _, e := range s.Env {
		k, _, _ := strings.Cut(e, "=")
		if dynamic[k] && job.Env[k] == "" {
			continue
		}
		env = append(env, e)
	}
	s.Env = env
	raw, _ := json.Marshal(s) // a struct of plain fields always encodes
	sum := sha1.Sum(raw)
	return hex.EncodeToString(sum[:])
}

// containerName is helios-<host>-<job name>_<version>_<hash7>_<random>: unique per host and
// readable in `docker ps`. Adoption goes by labels, never by name.
func containerName(host string, id model.JobID) string {
	h := id.Hash()
	if len(h) > 7 {
		h = h[:7]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("helios-%s-%s_%s_%s_%s", sanitize(host), id.Name(), id.Version(), h, hex.EncodeToString(b))
}

// sanitize keeps the characters Docker allows in names ([a-zA-Z0-9_.-]).
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
