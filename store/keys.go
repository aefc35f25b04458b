package store

import (
	"fmt"
	"strings"

	"github.com/helios-go/helios/model"
)

// DefaultPrefix is the root of every key when Config.Prefix is empty.
const DefaultPrefix = "/helios"

// Keys builds every etcd key of Helios; nothing else in the project spells a key. Every
// method whose name is plural (or ends in Prefix) returns a prefix ending in "/", so a range
// over host "web1" can never match "web10". Names are not checked here: callers validate
// them with ValidName first.
type Keys struct {
	root string // without a trailing "/"
}

// NewKeys returns the key builder rooted at prefix ("" = DefaultPrefix). A trailing "/" is
// dropped and a missing leading "/" added, so "/helios", "/helios/" and "helios" agree.
func NewKeys(prefix string) Keys {
	p := strings.TrimRight(prefix, "/")
	if p == "" {
		p = DefaultPrefix
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return Keys{root: p}
}

// ValidName rejects what cannot be one segment of a key: the empty string and anything
// holding a "/". Host names, job ids and master names all go through it.
func ValidName(kind, name string) error {
	if name == "" {
		return fmt.Errorf("empty %s: %w", kind, ErrInvalidName)
	}
	if strings.Contains(name, "/") {
		return fmt.Errorf("%s %q contains '/': %w", kind, name, ErrInvalidName)
	}
	return nil
}

// Root is the prefix of everything Helios stores, ending in "/".
func (k Keys) Root() string { return k.root + "/" }

// ---- config: desired state ----

// Jobs is the prefix of all job definitions.
func (k Keys) Jobs() string { return k.root + "/config/jobs/" }

// Job holds a job's definition (JSON model.Job), written once.
func (k Keys) Job(id model.JobID) string { return k.Jobs() + string(id) }

// JobHosts is the prefix of the reverse index of the hosts a job is deployed on.
func (k Keys) JobHosts(id model.JobID) string {
	return k.root + "/config/job-hosts/" + string(id) + "/"
}

// JobHost is one entry of the reverse index (empty value).
func (k Keys) JobHost(id model.JobID, host string) string { return k.JobHosts(id) + host }

// Hosts is the prefix of every host's configuration.
func (k Keys) Hosts() string { return k.root + "/config/hosts/" }

// Host is the prefix of one host's configuration.
func (k Keys) Host(host string) string { return k.Hosts() + host + "/" }

// HostID holds the host's registration id (plain string).
func (k Keys) HostID(host string) string { return k.Host(host) + "id" }

// HostGeneration is the host's desired-state generation: every guarded write under the
// host's configuration also puts it, so its ModRevision only grows, until an etcd snapshot
// restore brings back an older one (generation.go).
func (k Keys) HostGeneration(host string) string { return k.Host(host) + "generation" }

// RestoreAccepted is put by AcceptRestore only (with the generation): an agent that
// suspects a restore resumes once its ModRevision is past the generation it acted on, and
// not on any other write (a deploy or a rollout after the restore moves the generation too).
func (k Keys) RestoreAccepted(host string) string { return k.Host(host) + "restore-accepted" }

// Deployments is the prefix of the deployments of one host, what its agent watches.
func (k Keys) Deployments(host string) string { return k.Host(host) + "jobs/" }

// Deployment holds one deployment (JSON model.Deployment).
func (k Keys) Deployment(host string, id model.JobID) string { return k.Deployments(host) + string(id) }

// JobDefs is the prefix of the definitions of the jobs deployed on one host: a copy of
// each job written with its deployment, so the agent reads what it runs under its own
// prefix (the same watch, and no reach into every job's definition).
func (k Keys) JobDefs(host string) string { return k.Host(host) + "jobdefs/" }

// JobDef holds a copy of a job deployed on the host (JSON model.Job, as stored at Job).
func (k Keys) JobDef(host string, id model.JobID) string { return k.JobDefs(host) + string(id) }

// Ports is the prefix of the static port reservations of one host.
func (k Keys) Ports(host string) string { return k.Host(host) + "ports/" }

// Port reserves a static host port; the value is the id of the job holding it.
func (k Keys) Port(host, proto string, port int) string {
	return fmt.Sprintf("%s%s/%d", k.Ports(host), proto, port)
}

// DeploymentGroups is the prefix of deployment group definitions.
func (k Keys) DeploymentGroups() string { return k.root + "/config/deployment-groups/" }

// DeploymentGroup holds one deployment group definition.
func (k Keys) DeploymentGroup(name string) string { return k.DeploymentGroups() + name }

// ---- status: observed state ----

// HostStatuses is the prefix of every host's observed state.
func (k Keys) HostStatuses() string { return k.root + "/status/hosts/" }

// HostStatus is the prefix of one host's observed state.
func (k Keys) HostStatus(host string) string { return k.HostStatuses() + host + "/" }

// Up exists while the host's agent holds its lease.
func (k Keys) Up(host string) string { return k.HostStatus(host) + "up" }

// DownSince holds when the controller saw the host's up key vanish (ms since the epoch as
// a JSON number); the agent deletes it with the same transaction that puts up back.
func (k Keys) DownSince(host string) string { return k.HostStatus(host) + "down-since" }

// Info holds the host's HostInfo and AgentInfo.
func (k Keys) Info(host string) string { return k.HostStatus(host) + "info" }

// RestoreSuspected exists while the host's agent suspects etcd was restored from an older
// snapshot and holds back removals (model.RestoreSuspicion, JSON); the agent deletes it
// once the restore is accepted.
func (k Keys) RestoreSuspected(host string) string { return k.HostStatus(host) + "restore-suspected" }

// Labels holds the host's labels (JSON object).
func (k Keys) Labels(host string) string { return k.HostStatus(host) + "labels" }

// Environment holds the host's environment (JSON object).
func (k Keys) Environment(host string) string { return k.HostStatus(host) + "environment" }

// TaskStatuses is the prefix of the task statuses the host's agent reports.
func (k Keys) TaskStatuses(host string) string { return k.HostStatus(host) + "jobs/" }

// TaskStatus holds one task's status (JSON model.TaskStatus).
func (k Keys) TaskStatus(host string, id model.JobID) string {
	return k.TaskStatuses(host) + string(id)
}

// Endpoints is the prefix of the service endpoints the host's agent publishes for its
// healthy tasks, bound to its lease; the leader mirrors them to SkyDNS records (discovery.go).
func (k Keys) Endpoints(host string) string { return k.HostStatus(host) + "endpoints/" }

// Endpoint holds one task's endpoints (JSON model.JobEndpoints).
func (k Keys) Endpoint(host string, id model.JobID) string { return k.Endpoints(host) + string(id) }

// Masters is the prefix of the live masters.
func (k Keys) Masters() string { return k.root + "/status/masters/" }

// Master holds one master's MasterInfo, bound to its lease.
func (k Keys) Master(name string) string { return k.Masters() + name }

// DeploymentGroupStatuses is the prefix of deployment group rollout states.
func (k Keys) DeploymentGroupStatuses() string { return k.root + "/status/deployment-groups/" }

// DeploymentGroupStatus holds one deployment group's rollout state.
func (k Keys) DeploymentGroupStatus(name string) string { return k.DeploymentGroupStatuses() + name }

// ---- history ----

// HostHistories is the prefix of every host's task history.
func (k Keys) HostHistories() string { return k.root + "/history/hosts/" }

// HostHistoryRoot is the prefix of all of one host's history: what that host's agent may
// write when etcd authentication is on, and what deregistering the host deletes.
func (k Keys) HostHistoryRoot(host string) string { return k.HostHistories() + host + "/" }

// HostHistory is the prefix of a job's history on one host.
func (k Keys) HostHistory(id model.JobID, host string) string {
	return k.HostHistoryRoot(host) + "jobs/" + string(id) + "/"
}

// HistoryEvent is one event; the zero-padded nanosecond time makes key order time order.
func (k Keys) HistoryEvent(id model.JobID, host string, unixNano int64) string {
	return fmt.Sprintf("%s%020d", k.HostHistory(id, host), unixNano)
}

// LegacyHistories is the prefix of the history layout before per-host history
// (history/jobs/<id>/<host>/<ts>): older agents still write there, readers merge it in,
// and the leader moves what it finds to the per-host layout (MigrateHistory).
func (k Keys) LegacyHistories() string { return k.root + "/history/jobs/" }

// LegacyHistory is the prefix of a job's history on every host in the legacy layout.
func (k Keys) LegacyHistory(id model.JobID) string { return k.LegacyHistories() + string(id) + "/" }

// LegacyHostHistory is the prefix of a job's history on one host in the legacy layout.
func (k Keys) LegacyHostHistory(id model.JobID, host string) string {
	return k.LegacyHistory(id) + host + "/"
}

// LegacyHistoryEvent is where an older agent writes one event.
func (k Keys) LegacyHistoryEvent(id model.JobID, host string, unixNano int64) string {
	return fmt.Sprintf("%s%020d", k.LegacyHostHistory(id, host), unixNano)
}

// ClusterID holds the name of the Helios cluster that owns this key root.
func (k Keys) ClusterID() string { return k.root + "/config/cluster-id" }

// ClusterUID holds the random id of this key root, created once by the first agent: its
// containers carry it, so agents of two clusters sharing a Docker engine tell theirs apart.
func (k Keys) ClusterUID() string { return k.root + "/config/cluster-uid" }

// ---- election ----

// Election is the prefix of the controller election: every candidate's key, of this
// version and of the previous one, is below it.
func (k Keys) Election() string { return k.root + "/election/controller/" }

// ElectionKey is a candidate's key, named after its lease as concurrency.Election names it.
func (k Keys) ElectionKey(lease int64) string { return fmt.Sprintf("%s%x", k.Election(), lease) }

// LegacyElectionKey is where masters before this version put their candidacy (they gave
// concurrency.NewElection a prefix ending in "/", which added a second one). Candidates of
// this version put a copy there too, so that older masters wait behind them.
func (k Keys) LegacyElectionKey(lease int64) string {
	return fmt.Sprintf("%s/%x", k.Election(), lease)
}

// Base is the last segment of a key: the host or job id a listed key is about.
func Base(key string) string { return key[strings.LastIndexByte(key, '/')+1:] }

// splitUnder cuts key below prefix into its first segment and the rest:
// splitUnder("/h/config/hosts/", "/h/config/hosts/web1/jobs/x") = "web1", "jobs/x".
func splitUnder(prefix, key string) (first, rest string, ok bool) {
	if !strings.HasPrefix(key, prefix) {
		return "", "", false
	}
	first, rest, _ = strings.Cut(key[len(prefix):], "/")
	return first, rest, first != ""
}
