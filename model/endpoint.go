package model

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// DefaultServiceProtocol is the protocol of a registration that names none ("web" is "web/tcp").
const DefaultServiceProtocol = "tcp"

// Endpoint is one discoverable instance of a service: what an agent publishes for a healthy
// task (and a master for itself), and what the leader turns into one DNS SRV record.
type Endpoint struct {
	Service string `json:"service"` // "website" (from the registration key)
	Proto   string `json:"proto"`   // "tcp" (from the registration key; default tcp)
	// Name is the SRV owner name, domain resolved: "_website._tcp.example.local".
	Name     string   `json:"name"`
	Host     string   `json:"host"` // the agent's (or master's) advertised address
	Port     int      `json:"port"` // the named port's external (host) port
	Tags     []string `json:"tags,omitempty"`
	JobID    JobID    `json:"jobId,omitempty"`    // empty for a master
	PortName string   `json:"portName,omitempty"` // the job's port registered; empty for a master
}

// JobEndpoints is the value an agent publishes for one task.
type JobEndpoints struct {
	JobID       JobID      `json:"jobId"`
	ContainerID string     `json:"containerId,omitempty"`
	Endpoints   []Endpoint `json:"endpoints"`
}

// PublishedContainers tells, per job, the container whose endpoints a registrar holds.
func PublishedContainers(published map[JobID]JobEndpoints) map[JobID]string {
	out := make(map[JobID]string, len(published))
	for id, je := range published {
		out[id] = je.ContainerID
	}
	return out
}

// ResolveRegistrationDomain applies the manual's domain rules: an empty registrationDomain
// is the agent's domain; one ending in "." is used as is (without the dot); anything else
// becomes <registrationDomain>.<agentDomain>. The result is lower case, as DNS names
// compare without case and CoreDNS looks keys up in lower case.
func ResolveRegistrationDomain(registrationDomain, agentDomain string) string {
	agentDomain = strings.TrimSuffix(agentDomain, ".")
	var d string
	switch {
	case registrationDomain == "":
		d = agentDomain
	case strings.HasSuffix(registrationDomain, "."):
		d = strings.TrimSuffix(registrationDomain, ".")
	case agentDomain == "":
		d = registrationDomain
	default:
		d = registrationDomain + "." + agentDomain
	}
	return strings.ToLower(d)
}

// SRVName is the owner name of the SRV records of service over proto in domain:
// "_website._tcp.example.local".
func SRVName(service, proto, domain string) string {
	return strings.ToLower("_" + service + "._" + proto + "." + strings.TrimSuffix(domain, "."))
}

// ParseRegistrationKey splits a registration key "service[/protocol]" (protocol default tcp).
func ParseRegistrationKey(key string) (service, proto string) {
	service, proto, ok := strings.Cut(key, "/")
	if !ok || proto == "" {
		proto = DefaultServiceProtocol
	}
	return service, proto
}

// EndpointsOf lists what a running task of j registers: one endpoint per registered port,
// at host, on the external port bound (ports as the task status reports them). A
// registration naming no port uses the job's only port. Ports without an external port
// bound are skipped. agentDomain must not be empty. The order is stable.
func EndpointsOf(j *Job, ports map[string]PortMapping, agentDomain, host string) []Endpoint {
	domain := ResolveRegistrationDomain(j.RegistrationDomain, agentDomain)
	var out []Endpoint
	for key, sp := range j.Registration {
		service, proto := ParseRegistrationKey(key)
		names := make([]string, 0, len(sp.Ports))
		for n := range sp.Ports {
			names = append(names, n)
		}
		if len(names) == 0 && len(j.Ports) == 1 {
			for n := range j.Ports {
				names = append(names, n)
			}
		}
		for _, n := range names {
			pm, ok := ports[n]
			if !ok || pm.ExternalPort == nil || *pm.ExternalPort == 0 {
				continue
			}
			out = append(out, Endpoint{
				Service: service, Proto: proto, Name: SRVName(service, proto, domain),
				Host: host, Port: *pm.ExternalPort, Tags: slices.Clone(sp.Ports[n].Tags),
				JobID: j.ID, PortName: n,
			})
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Name != out[b].Name {
			return out[a].Name < out[b].Name
		}
		return out[a].PortName < out[b].PortName
	})
	return out
}

// ValidateDomain checks a DNS domain given by a user (--domain, registrationDomain): labels
// of letters, digits, '-' and '_' (SRV names are made of such labels), 1 to 63 characters,
// 253 in all, one trailing dot allowed.
func ValidateDomain(d string) error {
	name := strings.TrimSuffix(d, ".")
	switch {
	case name == "":
		return fmt.Errorf("invalid domain %q: empty", d)
	case len(name) > MaxHostNameLength:
		return fmt.Errorf("invalid domain: %d characters, at most %d", len(name), MaxHostNameLength)
	}
	for _, l := range strings.Split(name, ".") {
		if l == "" {
			return fmt.Errorf("invalid domain %q: empty label (two dots in a row, or a leading dot)", clip(d))
		}
		if len(l) > MaxHostLabelLength {
			return fmt.Errorf("invalid domain %q: label %q has %d characters, at most %d", clip(d), clip(l), len(l), MaxHostLabelLength)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("invalid domain %q: label %q has %q: only letters, digits, '-' and '_' are allowed", clip(d), clip(l), rune(c))
			}
		}
	}
	return nil
}
