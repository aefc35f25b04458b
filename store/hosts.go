package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// hostInfoValue is the value of status/hosts/<h>/info.
type hostInfoValue struct {
	HostInfo  model.HostInfo  `json:"hostInfo"`
	AgentInfo model.AgentInfo `json:"agentInfo"`
}

// upValue is the value of status/hosts/<h>/up: only its existence matters, the content
// is for people reading etcd.
type upValue struct {
	Status model.HostStatusWord `json:"status"`
	Since  int64                `json:"since"` // ms since the epoch
}

// RegisterHost records host with its registration id. Registering again with the same id
// does nothing. A different id replaces the old one only while the host is DOWN (its up key
// absent): a second agent claiming a live host's name is an ErrConflict. Deployments are
// kept across a re-registration.
func (s *Store) RegisterHost(ctx context.Context, host, id string) error {
	if err := model.ValidateHostName(host); err != nil {
		return fmt.Errorf("%w: %w", err, ErrInvalidName)
	}
	if id == "" {
		return fmt.Errorf("host %s: empty registration id: %w", host, ErrInvalidName)
	}
	idKey, upKey := s.keys.HostID(host), s.keys.Up(host)
	return s.guarded(ctx, "register-host", nil, func(ctx context.Context) (*change, error) {
		resps, _, err := s.read(ctx, "register-host", clientv3.OpGet(idKey), clientv3.OpGet(upKey, clientv3.WithKeysOnly()))
		if err != nil {
			return nil, err
		}
		cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(idKey), "=", 0)}
		if kvs := resps[0].Kvs; len(kvs) > 0 {
			old := string(kvs[0].Value)
			if old == id {
				return nil, nil
			}
			if len(resps[1].Kvs) > 0 {
				return nil, fmt.Errorf("host %s is up with id %s, refusing id %s: %w", host, old, id, ErrConflict)
			}
			cmps = []clientv3.Cmp{
				clientv3.Compare(clientv3.ModRevision(idKey), "=", kvs[0].ModRevision),
				clientv3.Compare(clientv3.CreateRevision(upKey), "=", 0),
			}
		}
		return &change{cmps: cmps, ops: []clientv3.Op{clientv3.OpPut(idKey, id)}}, nil
	})
}

// DeregisterHost forgets a host: its configuration (id, deployments, port reservations),
// its observed state, the reverse-index entries of its deployments and its history (all of
// the per-host layout, and the legacy layout's ranges of the jobs deployed on it).
// The last transaction is guarded by the id key and by no deployment having been written
// since they were listed, so a racing deploy cannot leave a dangling reverse-index entry.
// History goes first in chunks of at most maxTxnOps operations; losing it early is harmless.
// A host that is UP is refused with ErrHostUp unless allowUp: its agent would remove every
// container once its deployments are gone.
func (s *Store) DeregisterHost(ctx context.Context, host string, allowUp bool) error {
	if err := ValidName("host", host); err != nil {
		return err
	}
	return s.deregisterHost(ctx, nil, host, allowUp)
}

// deregisterHost is DeregisterHost, fenced by l when the leader's reaper does it.
func (s *Store) deregisterHost(ctx context.Context, l *Leadership, host string, allowUp bool) error {
	idKey, depPrefix, upKey := s.keys.HostID(host), s.keys.Deployments(host), s.keys.Up(host)
	return s.guarded(ctx, "deregister-host", l, func(ctx context.Context) (*change, error) {
		resps, rev, err := s.read(ctx, "deregister-host",
			clientv3.OpGet(idKey, clientv3.WithKeysOnly()),
			clientv3.OpGet(depPrefix, clientv3.WithPrefix(), clientv3.WithKeysOnly()),
			clientv3.OpGet(upKey, clientv3.WithKeysOnly()))
		if err != nil {
			return nil, err
		}
		if len(resps[0].Kvs) == 0 {
			return nil, fmt.Errorf("host %s: %w", host, ErrHostNotFound)
		}
		if len(resps[2].Kvs) > 0 && !allowUp {
			return nil, fmt.Errorf("host %s: its agent is running, and deregistering the host removes every deployment, so the agent would remove their containers: %w", host, ErrHostUp)
		}
		idGuard := clientv3.Compare(clientv3.ModRevision(idKey), "=", resps[0].Kvs[0].ModRevision)
		var history, index []clientv3.Op
		for _, kv := range resps[1].Kvs {
			id := model.JobID(Base(string(kv.Key)))
			history = append(history, clientv3.OpDelete(s.keys.LegacyHostHistory(id, host), clientv3.WithPrefix()))
			index = append(index, clientv3.OpDelete(s.keys.JobHost(id, host)))
		}
		last := []clientv3.Op{
			clientv3.OpDelete(s.keys.Host(host), clientv3.WithPrefix()),
			clientv3.OpDelete(s.keys.HostStatus(host), clientv3.WithPrefix()),
			clientv3.OpDelete(s.keys.HostHistoryRoot(host), clientv3.WithPrefix()),
		}
		// The index entries go with the final transaction when they fit, else before it.
		if len(index)+len(last) <= maxTxnOps-1 {
			last = append(last, index...)
		} else {
			history = append(history, index...)
		}
		// History goes first, in chunks; losing it early is harmless. A chunk whose guard
		// failed is simply written again by the next attempt.
		for start := 0; start < len(history); start += maxTxnOps - 1 {
			chunk := &change{cmps: []clientv3.Cmp{idGuard}, ops: history[start:min(start+maxTxnOps-1, len(history))]}
			if _, err := s.commit(ctx, "deregister-host", l, chunk); err != nil {
				return nil, err
			}
		}
		cmps := []clientv3.Cmp{idGuard, clientv3.Compare(clientv3.ModRevision(depPrefix), "<", rev+1).WithPrefix()}
		if !allowUp { // the agent must not come up between the check and the deletion
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(upKey), "=", 0))
		}
		return &change{cmps: cmps, ops: last}, nil
	})
}

// ReapHost deregisters a host for the controller's leader (the dead-agent reaper): the same
// deletions as DeregisterHost, fenced, so a deposed leader cannot remove a host.
func (s *Store) ReapHost(ctx context.Context, l *Leadership, host string) error {
	if err := ValidName("host", host); err != nil {
		return err
	}
	return s.deregisterHost(ctx, l, host, false)
}

// ListHosts returns the registered host names, sorted.
func (s *Store) ListHosts(ctx context.Context) ([]string, error) {
	prefix := s.keys.Hosts()
	resp, err := s.get(ctx, "list-hosts", prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, err
	}
	hosts := []string{}
	for _, kv := range resp.Kvs {
		if h, rest, ok := splitUnder(prefix, string(kv.Key)); ok && rest == "id" {
			hosts = append(hosts, h)
		}
	}
	sort.Strings(hosts)
	return hosts, nil
}

// HostID returns the host's registration id; ErrHostNotFound if it is not registered.
func (s *Store) HostID(ctx context.Context, host string) (string, error) {
	if err := ValidName("host", host); err != nil {
		return "", err
	}
	resp, err := s.get(ctx, "host-id", s.keys.HostID(host))
	if err != nil {
		return "", err
	}
	if len(resp.Kvs) == 0 {
		return "", fmt.Errorf("host %s: %w", host, ErrHostNotFound)
	}
	return string(resp.Kvs[0].Value), nil
}

// HostStatus is everything known about one registered host; ErrHostNotFound otherwise.
// Status is UP iff the host's lease-bound up key exists.
func (s *Store) HostStatus(ctx context.Context, host string) (*model.HostStatus, error) {
	if err := ValidName("host", host); err != nil {
		return nil, err
	}
	resps, _, err := s.read(ctx, "host-status",
		clientv3.OpGet(s.keys.Host(host), clientv3.WithPrefix()),
		clientv3.OpGet(s.keys.HostStatus(host), clientv3.WithPrefix()))
	if err != nil {
		return nil, err
	}
	st := s.hostStatuses(resps[0].Kvs, resps[1].Kvs, map[string]bool{host: true})
	hs, ok := st[host]
	if !ok {
		return nil, fmt.Errorf("host %s: %w", host, ErrHostNotFound)
	}
	return &hs, nil
}

// HostStatuses returns the status of the given registered hosts (nil: all of them);
// unknown hosts are left out. Two range reads at one revision, whatever the number of hosts.
func (s *Store) HostStatuses(ctx context.Context, hosts []string) (map[string]model.HostStatus, error) {
	var want map[string]bool
	if hosts != nil {
		want = make(map[string]bool, len(hosts))
		for _, h := range hosts {
			want[h] = true
		}
	}
	resps, _, err := s.read(ctx, "host-statuses",
		clientv3.OpGet(s.keys.Hosts(), clientv3.WithPrefix()),
		clientv3.OpGet(s.keys.HostStatuses(), clientv3.WithPrefix()))
	if err != nil {
		return nil, err
	}
	return s.hostStatuses(resps[0].Kvs, resps[1].Kvs, want), nil
}

// hostStatuses assembles host statuses from ranges over config/hosts/ and status/hosts/
// (or below them), keeping registered hosts in want (nil: all).
func (s *Store) hostStatuses(config, status []*mvccpb.KeyValue, want map[string]bool) map[string]model.HostStatus {
	out := map[string]model.HostStatus{}
	cfgPrefix, stPrefix := s.keys.Hosts(), s.keys.HostStatuses()
	keep := func(h string) bool { return want == nil || want[h] }
	for _, kv := range config {
		h, rest, ok := splitUnder(cfgPrefix, string(kv.Key))
		if ok && rest == "id" && keep(h) {
			out[h] = model.HostStatus{
				Status:   model.HostDown,
				Jobs:     map[model.JobID]model.Deployment{},
				Statuses: map[model.JobID]model.TaskStatus{},
			}
		}
	}
	for _, kv := range config {
		h, rest, _ := splitUnder(cfgPrefix, string(kv.Key))
		hs, ok := out[h]
		if !ok || !strings.HasPrefix(rest, "jobs/") {
			continue
		}
		var d model.Deployment
		if err := decode(string(kv.Key), kv.Value, &d); err != nil {
			s.skipBad(err)
			continue
		}
		hs.Jobs[model.JobID(strings.TrimPrefix(rest, "jobs/"))] = d
	}
	for _, kv := range status {
		h, rest, _ := splitUnder(stPrefix, string(kv.Key))
		hs, ok := out[h]
		if !ok {
			continue
		}
		var err error
		switch {
		case rest == "up":
			hs.Status = model.HostUp
		case rest == "down-since":
			err = decode(string(kv.Key), kv.Value, &hs.DownSince)
		case rest == "info":
			var v hostInfoValue
			if err = decode(string(kv.Key), kv.Value, &v); err == nil {
				hs.HostInfo, hs.AgentInfo = &v.HostInfo, &v.AgentInfo
			}
		case rest == "labels":
			err = decode(string(kv.Key), kv.Value, &hs.Labels)
		case rest == "environment":
			err = decode(string(kv.Key), kv.Value, &hs.Environment)
		case rest == "restore-suspected":
			var v model.RestoreSuspicion
			if err = decode(string(kv.Key), kv.Value, &v); err == nil {
				hs.RestoreSuspected = &v
			}
		case strings.HasPrefix(rest, "jobs/"):
			var ts model.TaskStatus
			if err = decode(string(kv.Key), kv.Value, &ts); err == nil {
				hs.Statuses[model.JobID(strings.TrimPrefix(rest, "jobs/"))] = ts
			}
		}
		if err != nil {
			s.skipBad(err)
		}
		out[h] = hs
	}
	for h, hs := range out {
		if hs.Status == model.HostUp && hs.DownSince != 0 {
			hs.DownSince = 0 // the agent came back before anyone cleared the record
			out[h] = hs
		}
	}
	return out
}

// PutHostInfo records what the agent found out about its machine and itself.
func (s *Store) PutHostInfo(ctx context.Context, host string, info model.HostInfo, agent model.AgentInfo) error {
	return s.putJSON(ctx, "put-host-info", host, s.keys.Info(host), hostInfoValue{HostInfo: info, AgentInfo: agent})
}

// PutHostLabels records the host's labels.
func (s *Store) PutHostLabels(ctx context.Context, host string, labels map[string]string) error {
	if labels == nil {
		labels = map[string]string{}
	}
	return s.putJSON(ctx, "put-host-labels", host, s.keys.Labels(host), labels)
}

// PutHostEnvironment records the environment the host's agent passes to its containers.
func (s *Store) PutHostEnvironment(ctx context.Context, host string, env map[string]string) error {
	if env == nil {
		env = map[string]string{}
	}
	return s.putJSON(ctx, "put-host-environment", host, s.keys.Environment(host), env)
}

// PutUp marks the host UP for as long as lease lives: etcd deletes the key with the lease.
func (s *Store) PutUp(ctx context.Context, host string, lease LeaseID) error {
	if err := ValidName("host", host); err != nil {
		return err
	}
	val, err := encode(upValue{Status: model.HostUp, Since: time.Now().UnixMilli()})
	if err != nil {
		return err
	}
	// The host is up again: the controller's record of when it went down goes with it.
	_, err = s.txn(ctx, "put-up", nil, []clientv3.Op{
		clientv3.OpPut(s.keys.Up(host), val, clientv3.WithLease(clientv3.LeaseID(lease))),
		clientv3.OpDelete(s.keys.DownSince(host)),
	})
	return err
}

func (s *Store) putJSON(ctx context.Context, op, host, key string, v any, opts ...clientv3.OpOption) error {
	if err := ValidName("host", host); err != nil {
		return err
	}
	val, err := encode(v)
	if err != nil {
		return err
	}
	return s.put(ctx, op, key, val, opts...)
}
