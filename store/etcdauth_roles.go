package store

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/helios-go/helios/model"
)

// The etcd users and roles Helios manages when etcd authentication is on. Each user has
// the role of the same name; root is etcd's own superuser, needed to turn auth on and to
// manage users.
const (
	RootUser    = "root"
	MasterUser  = "helios-master"
	ReaderUser  = "helios-reader"
	AgentPrefix = "helios-agent-"
	// DefaultSkyDNSPath is where SkyDNS records live unless --skydns-path says otherwise.
	DefaultSkyDNSPath = "/skydns"
)

// Access is what a role may do on a key range.
type Access string

// Access levels, as etcd has them.
const (
	AccessRead      Access = "read"
	AccessReadWrite Access = "readwrite"
)

// Grant is one key range of a role: a single key, or every key under Key when Prefix.
type Grant struct {
	Key    string
	Prefix bool
	Access Access
}

// RoleSpec is a role with every range it may touch; ApplyRole makes etcd's role match it.
type RoleSpec struct {
	Name   string
	Grants []Grant
}

// AgentUser is the etcd user (and role) of the agent of host.
func AgentUser(host string) string { return AgentPrefix + host }

// skydnsPrefix normalises the SkyDNS path to a prefix ending in "/" ("" = the default).
func skydnsPrefix(path string) string {
	p := strings.TrimRight(path, "/")
	if p == "" {
		p = DefaultSkyDNSPath
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p + "/"
}

// AgentRole is the role of host's agent: like Kubernetes' NodeRestriction, it reads only
// its own host's configuration (deployments, the job copies written with them, port
// reservations, registration id), writes only its own observed state (up, info, labels,
// environment, task statuses, leased service endpoints) and its own history, may write
// exactly the one key of its registration, and reads the cluster's identity, the SkyDNS
// records and the controller's election (master names only: an agent withdrawing a task's
// endpoints asks whether a leader is there to remove its records before waiting for them). Not config/jobs/ (every job's environment and token), nor any other
// host's keys. Leases need no key permission.
func (k Keys) AgentRole(host, skydnsPath string) RoleSpec {
	return RoleSpec{Name: AgentUser(host), Grants: []Grant{
		{Key: k.Host(host), Prefix: true, Access: AccessRead},
		{Key: k.HostID(host), Access: AccessReadWrite},
		{Key: k.HostStatus(host), Prefix: true, Access: AccessReadWrite},
		{Key: k.HostHistoryRoot(host), Prefix: true, Access: AccessReadWrite},
		{Key: k.ClusterUID(), Access: AccessRead},
		{Key: k.ClusterID(), Access: AccessRead},
		{Key: skydnsPrefix(skydnsPath), Prefix: true, Access: AccessRead},
		{Key: k.Election(), Prefix: true, Access: AccessRead},
	}}
}

// MasterRole is the masters' role: everything under the Helios root and the SkyDNS path.
func (k Keys) MasterRole(skydnsPath string) RoleSpec {
	return RoleSpec{Name: MasterUser, Grants: []Grant{
		{Key: k.Root(), Prefix: true, Access: AccessReadWrite},
		{Key: skydnsPrefix(skydnsPath), Prefix: true, Access: AccessReadWrite},
	}}
}

// ReaderRole is the operators' role for etcdctl: read everything Helios keeps, write nothing.
func (k Keys) ReaderRole(skydnsPath string) RoleSpec {
	return RoleSpec{Name: ReaderUser, Grants: []Grant{
		{Key: k.Root(), Prefix: true, Access: AccessRead},
		{Key: skydnsPrefix(skydnsPath), Prefix: true, Access: AccessRead},
	}}
}

// ParseAuthUser checks a user name given to the etcd-auth commands: root, helios-master,
// helios-reader, or helios-agent-<host> with a valid host name. host is the agent's host
// ("" for the others). Other names are refused: the commands manage Helios's users only.
func ParseAuthUser(name string) (host string, err error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("etcd user name %q is not valid UTF-8: %w", name, ErrInvalidName)
	}
	switch name {
	case RootUser, MasterUser, ReaderUser:
		return "", nil
	}
	h, ok := strings.CutPrefix(name, AgentPrefix)
	if !ok {
		return "", fmt.Errorf("etcd user %q is not one Helios manages (%s, %s, %s or %s<host>): %w", name, RootUser, MasterUser, ReaderUser, AgentPrefix, ErrInvalidName)
	}
	if err := model.ValidateHostName(h); err != nil {
		return "", fmt.Errorf("etcd user %q: %w: %w", name, err, ErrInvalidName)
	}
	return h, nil
}

// ParseSkyDNSPath checks the etcd path of SkyDNS records: absolute, at least one
// segment, no empty, "." or ".." segment, printable ASCII.
func ParseSkyDNSPath(path string) (string, error) {
	if path == "" {
		return DefaultSkyDNSPath, nil
	}
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("SkyDNS path %q: must start with /", path)
	}
	p := strings.TrimSuffix(path, "/")
	if p == "" {
		return "", fmt.Errorf("SkyDNS path %q: must name a directory below /, such as /skydns", path)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("SkyDNS path %q: empty, . or .. segment", path)
		}
		for _, r := range seg {
			if r <= ' ' || r > '~' {
				return "", fmt.Errorf("SkyDNS path %q: only printable ASCII without spaces", path)
			}
		}
	}
	return p, nil
}
