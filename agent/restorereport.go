package agent

import (
	"context"
	"sync"
	"time"

	"github.com/helios-go/helios/model"
	"go.uber.org/zap"
)

// A suspected restore (restore.go) holds back the removals of a host until an operator
// accepts it; with a fleet, the operator must see which hosts hold back without scraping
// every agent. The agent reports it in etcd, under its own status prefix
// (status/hosts/<host>/restore-suspected), where the masters read host statuses: the CLI's
// `helios hosts` and the dashboard show it. The pass only says what the report should be;
// the writes run in the background (background.go), as a pass never waits for etcd.

// restoreReport is what the agent wants etcd to hold and what it last knew etcd held.
type restoreReport struct {
	mu      sync.Mutex
	wanted  *model.RestoreSuspicion // nil: no suspicion, no key
	written *model.RestoreSuspicion // as etcd holds it, when known
	// known: written is etcd's value. False at start, so the writer reads the key first:
	// that removes a report a restored etcd brought back from a past suspicion, and keeps
	// the since of a report made before the agent restarted. False again at each resync
	// while suspected: that re-asserts a report etcd lost (restored again, deleted by hand).
	known    bool
	writing  bool      // the background writer runs
	failures int       // in a row, for the back-off
	retryAt  time.Time // no write before (etcd away)
}

// sameReport compares what the report says but its since, which the writer settles.
func sameReport(a, b *model.RestoreSuspicion) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.EtcdGeneration == b.EtcdGeneration && a.AgentGeneration == b.AgentGeneration && a.HeldActions == b.HeldActions
}

// wantReport sets the report a pass found: none when not suspected; else the generations
// compared and, on a full pass, the number of held actions (a partial pass keeps the last
// full pass's).
func (r *restoreReport) wantReport(suspect bool, etcdGen, agentGen int64, held int, all bool, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !suspect {
		r.wanted = nil
		return
	}
	next := model.RestoreSuspicion{EtcdGeneration: etcdGen, AgentGeneration: agentGen, Since: now.UnixMilli(), HeldActions: held}
	if w := r.wanted; w != nil {
		next.Since = w.Since
		if !all {
			next.HeldActions = w.HeldActions
		}
	}
	r.wanted = &next // replaced, never changed in place: the writer reads it unlocked
}

// resync makes the writer read etcd's value again before it trusts its own, while a
// restore is suspected: a healthy fleet pays no read for it.
func (r *restoreReport) resync() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wanted != nil {
		r.known = false
		r.retryAt = time.Time{}
	}
}

// writeRestoreReport reads etcd's report when not known, then puts or deletes it until it
// matches the wanted one; it ends the writer's turn (writing) when it succeeds.
func (a *Agent) writeRestoreReport(ctx context.Context) error {
	r := &a.report
	for {
		r.mu.Lock()
		known, wanted, written := r.known, r.wanted, r.written
		if known && sameReport(wanted, written) {
			// Done, in the same hold of mu as the check: a pass that changes the wanted
			// report after this starts a writer again.
			r.writing = false
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
		if !known {
			cur, err := a.cfg.Store.RestoreSuspected(ctx, a.cfg.Name)
			if err != nil {
				return err
			}
			r.mu.Lock()
			r.written, r.known = cur, true
			r.mu.Unlock()
			continue
		}
		if wanted == nil {
			if err := a.cfg.Store.DeleteRestoreSuspected(ctx, a.cfg.Name); err != nil {
				return err
			}
			a.log.Info("report of the suspected restore removed from etcd")
			r.mu.Lock()
			r.written = nil
			r.mu.Unlock()
			continue
		}
		v := *wanted
		if written != nil && written.AgentGeneration == v.AgentGeneration && written.Since > 0 {
			v.Since = min(v.Since, written.Since) // the suspicion began before this agent started
		}
		if err := a.cfg.Store.PutRestoreSuspected(ctx, a.cfg.Name, v); err != nil {
			return err
		}
		if written == nil {
			a.log.Info("suspected restore reported in etcd", zap.Int64("etcd-generation", v.EtcdGeneration),
				zap.Int64("agent-generation", v.AgentGeneration), zap.Int("held-actions", v.HeldActions))
		}
		r.mu.Lock()
		r.written = &v
		if r.wanted == wanted {
			r.wanted = &v // its since settled
		}
		r.mu.Unlock()
	}
}
