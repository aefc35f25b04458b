package agent

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// errNotListed is the answer for desired state before the watch has listed the host's
// deployments once (and the state dir had none): the pass waits for the list, which wakes
// every job.
var errNotListed = errors.New("deployments not listed yet")

// desiredCache is the host's deployments as the watch on the host's prefix last told them,
// each with its ModRevision, and the jobs they name, each read once (jobs are immutable)
// and hashed once. A pass reads it instead of etcd; a resync lists from etcd again.
// Updates older than what the cache holds (a resync's list overtaken by the watch) are
// ignored: rev is the etcd revision the cache reflects.
type desiredCache struct {
	mu      sync.Mutex
	prefix  string // of the deployment keys: <host prefix>jobs/
	defs    string // of the job copies written with them: <host prefix>jobdefs/
	hash    func(*model.Job) cachedJob
	rev     int64 // 0: never filled
	deps    map[model.JobID]cachedDeployment
	jobs    map[model.JobID]cachedJob
	changed bool // since the state dir was last written
	// The host's generation as the watch or a resync last read it (restore.go), as of
	// etcd revision genRev (0: never read).
	genKey, idKey, acceptKey string
	gen                      generation
	genRev                   int64
}

type cachedDeployment struct {
	dep    model.Deployment
	modRev int64
}

type cachedJob struct {
	job      *model.Job
	specHash string
}

func newDesiredCache(hostPrefix string, hash func(*model.Job) cachedJob) *desiredCache {
	return &desiredCache{prefix: hostPrefix + "jobs/", defs: hostPrefix + "jobdefs/", hash: hash,
		genKey: hostPrefix + "generation", idKey: hostPrefix + "id", acceptKey: hostPrefix + "restore-accepted",
		deps: map[model.JobID]cachedDeployment{}, jobs: map[model.JobID]cachedJob{}}
}

// defOf is the job id of a job-copy key, and the job in value when it decodes.
func (c *desiredCache) defOf(key string, value []byte) (model.JobID, *model.Job, bool) {
	id, ok := strings.CutPrefix(key, c.defs)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", nil, false
	}
	if value == nil {
		return model.JobID(id), nil, true
	}
	var j model.Job
	if err := json.Unmarshal(value, &j); err != nil {
		return model.JobID(id), nil, true
	}
	return model.JobID(id), &j, true
}

// jobOf is the job id of a deployment key; false for any other key under the host prefix
// (the host id, port reservations).
func (c *desiredCache) jobOf(key string) (model.JobID, bool) {
	id, ok := strings.CutPrefix(key, c.prefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return model.JobID(id), true
}

// reset replaces the deployments with a list of the host's keys at rev (the watch's list).
// It returns false when the cache is already newer.
func (c *desiredCache) reset(kvs []store.KV, rev int64) bool {
	deps := map[model.JobID]cachedDeployment{}
	jobs := map[model.JobID]cachedJob{}
	var gen generation
	for _, kv := range kvs {
		switch kv.Key {
		case c.genKey:
			gen.modRev = kv.ModRevision
		case c.idKey:
			gen.registered = true
		case c.acceptKey:
			gen.accepted = kv.ModRevision
		}
		if id, j, ok := c.defOf(kv.Key, kv.Value); ok {
			if j != nil {
				jobs[id] = c.hash(j)
			}
			continue
		}
		id, ok := c.jobOf(kv.Key)
		if !ok {
			continue
		}
		var d model.Deployment
		if err := json.Unmarshal(kv.Value, &d); err != nil {
			continue // not a deployment the agent can act on; the master validates what it writes
		}
		deps[id] = cachedDeployment{dep: d, modRev: kv.ModRevision}
	}
	// The generation first: a pass that sees these deployments sees it too.
	c.setGeneration(gen, rev)
	return c.replace(deps, jobs, rev)
}

// setGeneration records the host's generation as of rev unless the cache has a newer one.
func (c *desiredCache) setGeneration(g generation, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev >= c.genRev {
		c.gen, c.genRev = g, rev
	}
}

// generation is the host's generation as last read, and whether it was ever read.
func (c *desiredCache) generation() (generation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.genRev != 0
}

// replace installs deps (and jobs already read with them) as of rev unless the cache is
// newer. Jobs no deployment names any more are dropped.
func (c *desiredCache) replace(deps map[model.JobID]cachedDeployment, jobs map[model.JobID]cachedJob, rev int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev < c.rev {
		return false
	}
	for id, d := range deps {
		old, ok := c.deps[id]
		switch {
		case ok && old.dep == d.dep:
			// A resync's list knows only its own revision: keep the deployment's.
			d.modRev = old.modRev
			deps[id] = d
		case !ok || old.modRev != d.modRev:
			c.changed = true
		}
	}
	if len(deps) != len(c.deps) {
		c.changed = true
	}
	c.deps, c.rev = deps, rev
	for id, j := range jobs {
		if _, ok := c.jobs[id]; !ok {
			c.jobs[id] = j
		}
	}
	for id := range c.jobs {
		if _, ok := deps[id]; !ok {
			delete(c.jobs, id)
		}
	}
	return true
}

// apply applies watch events newer than the cache and returns the jobs whose deployment
// changed.
func (c *desiredCache) apply(evs []store.Event) []model.JobID {
	c.mu.Lock()
	defer c.mu.Unlock()
	var changed []model.JobID
	for _, ev := range evs {
		if ev.Revision < c.rev {
			continue // the cache was listed after it (one transaction's events share a revision)
		}
		c.rev = max(c.rev, ev.Revision)
		if (ev.Key == c.genKey || ev.Key == c.idKey || ev.Key == c.acceptKey) && ev.Revision >= c.genRev {
			c.genRev = ev.Revision
			rev := ev.Revision
			if ev.Type == store.EventDelete {
				rev = 0
			}
			switch ev.Key {
			case c.genKey:
				c.gen.modRev = rev
			case c.acceptKey:
				c.gen.accepted = rev
			default:
				c.gen.registered = rev != 0
			}
			continue
		}
		if id, j, ok := c.defOf(ev.Key, ev.Value); ok {
			// A job's copy comes in the deployment's transaction: no read of the job.
			if j != nil && ev.Type != store.EventDelete {
				if _, known := c.jobs[id]; !known {
					c.jobs[id] = c.hash(j)
					c.changed = true
				}
			}
			continue
		}
		id, ok := c.jobOf(ev.Key)
		if !ok {
			continue
		}
		switch ev.Type {
		case store.EventDelete:
			delete(c.deps, id)
			delete(c.jobs, id) // read again if it is deployed again
		default:
			var d model.Deployment
			if err := json.Unmarshal(ev.Value, &d); err != nil {
				continue
			}
			c.deps[id] = cachedDeployment{dep: d, modRev: ev.Revision}
		}
		c.changed = true
		changed = append(changed, id)
	}
	return changed
}

// desired is the cached desired state, and the deployed jobs not read yet. filled is false
// until the first list.
func (c *desiredCache) desired() (out map[model.JobID]desiredTask, unread []model.JobID, filled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out = make(map[model.JobID]desiredTask, len(c.deps))
	for id, d := range c.deps {
		t := desiredTask{Goal: d.dep.Goal}
		if j, ok := c.jobs[id]; ok {
			t.Job, t.SpecHash = j.job, j.specHash
		} else {
			unread = append(unread, id)
		}
		out[id] = t
	}
	return out, unread, c.rev != 0
}

// addJob keeps a job read for a deployment (if it is still deployed).
func (c *desiredCache) addJob(id model.JobID, j cachedJob) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.deps[id]; ok {
		c.jobs[id] = j
		c.changed = true
	}
}

// takeChanged returns the deployments and jobs for the state dir when they changed since
// the last call.
func (c *desiredCache) takeChanged() (map[model.JobID]model.Deployment, map[model.JobID]model.Job, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.changed || c.rev == 0 {
		return nil, nil, false
	}
	c.changed = false
	deps := make(map[model.JobID]model.Deployment, len(c.deps))
	jobs := make(map[model.JobID]model.Job, len(c.jobs))
	for id, d := range c.deps {
		deps[id] = d.dep
	}
	for id, j := range c.jobs {
		jobs[id] = *j.job
	}
	return deps, jobs, true
}
