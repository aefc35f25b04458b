package agent

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Which containers are this agent's. Several agents may share one Docker engine and one host
// name (two helios-solo side by side, each with its own etcd), so the host label alone says
// nothing. A container is this agent's when
//   - it carries this host's name and this cluster's id (LabelHost, LabelCluster), or
//   - its id is recorded in the state dir (every container the agent created or adopted), or
//     named by one of this host's task statuses in etcd.
//
// The last two rules adopt containers made before LabelCluster existed (and keep the agent's
// own containers when the cluster id changed under it, e.g. etcd restored from a backup older
// than the id). Any other container is left alone: never adopted, stopped or removed, since a
// mistake there destroys another cluster's work. The state dir is locked to one agent and each
// cluster's statuses live in its own etcd, so neither record can name another agent's container.

const (
	clusterFile = "cluster-uid"     // the cluster id last learned from etcd
	ownedFile   = "containers.json" // ids of the containers this agent created or adopted
)

// identity is the agent's cluster id and its record of containers, both kept in the state
// dir so an agent restarted during an etcd outage still knows what is its own.
type identity struct {
	dir string

	mu      sync.Mutex
	cluster string               // "" until learned (state dir or etcd)
	owned   map[string]time.Time // recorded container ids, and when recorded (zero: loaded from disk)
	ignored map[string]bool      // others' containers already logged
	saved   string               // owned as last written
}

// loadIdentity reads the cluster id and the container record kept in dir.
func loadIdentity(dir string) (*identity, error) {
	id := &identity{dir: dir, owned: map[string]time.Time{}, ignored: map[string]bool{}}
	b, err := os.ReadFile(filepath.Join(dir, clusterFile))
	switch {
	case err == nil:
		id.cluster = strings.TrimSpace(string(b))
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read cluster id: %w", err)
	}
	b, err = os.ReadFile(filepath.Join(dir, ownedFile))
	switch {
	case err == nil:
		var ids []string
		if err := json.Unmarshal(b, &ids); err != nil {
			return nil, fmt.Errorf("read %s: %w", ownedFile, err)
		}
		for _, c := range ids {
			id.owned[c] = time.Time{}
		}
		id.saved = string(b)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read %s: %w", ownedFile, err)
	}
	return id, nil
}

// Cluster is the cluster id the agent labels its containers with ("" while unknown).
func (i *identity) Cluster() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.cluster
}

// proposal is what the agent offers as the cluster id when etcd has none yet: the one it
// knew (etcd lost it), else a new random one.
func (i *identity) proposal() string {
	if c := i.Cluster(); c != "" {
		return c
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}

// setCluster adopts the cluster id etcd holds and keeps it in the state dir. It returns the
// id it replaces ("" if none or unchanged).
func (i *identity) setCluster(c string) (replaced string, err error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if c == i.cluster {
		return "", nil
	}
	if err := writeAtomic(filepath.Join(i.dir, clusterFile), []byte(c+"\n")); err != nil {
		return "", fmt.Errorf("keep cluster id: %w", err)
	}
	replaced, i.cluster = i.cluster, c
	return replaced, nil
}

// record notes a container the agent just created.
func (i *identity) record(id string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.owned[id] = time.Now()
	return i.saveLocked()
}

// sortOut splits the containers listed with this host's label (at listedAt) into the agent's
// own and the ones it must leave alone, recording those it adopts now. reported holds the
// container ids this host's task statuses name. It also returns the others not seen before,
// for the caller to log once, and forgets recorded ids no longer on the engine. A partial
// listing (some jobs' containers only) forgets nothing: what it lacks may still be there.
func (i *identity) sortOut(ctrs []Container, host string, reported map[string]bool, listedAt time.Time, partial bool) (mine, others, newOthers []Container, err error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	mine, others = ownedBy(ctrs, host, i.cluster, func(id string) bool { _, ok := i.owned[id]; return ok || reported[id] })
	listed := map[string]bool{}
	for _, c := range mine {
		listed[c.ID] = true
		if _, ok := i.owned[c.ID]; !ok {
			i.owned[c.ID] = listedAt
		}
	}
	for id, at := range i.owned {
		// A container recorded after the listing began may simply be missing from it.
		if !partial && !listed[id] && at.Before(listedAt) {
			delete(i.owned, id)
		}
	}
	seen := map[string]bool{}
	for _, c := range others {
		seen[c.ID] = true
		if !i.ignored[c.ID] {
			newOthers = append(newOthers, c)
		}
	}
	if partial {
		maps.Copy(seen, i.ignored)
	}
	i.ignored = seen
	return mine, others, newOthers, i.saveLocked()
}

// saveLocked writes the record when it changed; callers hold mu.
func (i *identity) saveLocked() error {
	ids := make([]string, 0, len(i.owned))
	for id := range i.owned {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("encode %s: %w", ownedFile, err)
	}
	if string(b) == i.saved {
		return nil
	}
	if err := writeAtomic(filepath.Join(i.dir, ownedFile), b); err != nil {
		return fmt.Errorf("write %s: %w", ownedFile, err)
	}
	i.saved = string(b)
	return nil
}

// ownedBy applies the rule above: a container is mine when it carries host and cluster, or
// when recorded says so (state dir, task statuses); the rest is someone else's. It is pure.
func ownedBy(ctrs []Container, host, cluster string, recorded func(id string) bool) (mine, others []Container) {
	for _, c := range ctrs {
		if c.Labels[LabelHost] != host {
			others = append(others, c)
			continue
		}
		if (cluster != "" && c.Labels[LabelCluster] == cluster) || recorded(c.ID) {
			mine = append(mine, c)
		} else {
			others = append(others, c)
		}
	}
	return mine, others
}

// writeAtomic replaces path with data, so a crash leaves the old or the new file, never half.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
