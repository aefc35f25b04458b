package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"
)

// An etcd restored from a snapshot holds the desired state of the past: the deployments
// made after the snapshot are gone from it. An agent that simply converged would remove
// their containers. With `etcdutl snapshot restore --bump-revision --mark-compacted` the
// revisions go forward, so the revision cannot tell; the host's generation can. Every
// write of the masters under config/hosts/<host>/ also puts config/hosts/<host>/generation
// (store/generation.go), so its ModRevision only grows. The agent keeps the highest it has
// acted on in its state dir; a lower one in etcd (or none, while the host is registered)
// means etcd went back in time. The agent then holds every action that would stop, remove
// or replace a container, and reports, until an operator accepts the restore
// (`helios accept-restore`), which puts config/hosts/<host>/restore-accepted (and the
// generation) past the generation the agent acted on. The suspicion is kept in the state dir
// with the generation, so a restarted agent keeps holding back.

// generation is the host's generation key as read from etcd.
type generation struct {
	modRev     int64 // ModRevision of config/hosts/<host>/generation; 0: absent
	registered bool  // config/hosts/<host>/id is present
	accepted   int64 // ModRevision of config/hosts/<host>/restore-accepted; 0: absent
}

// restoreVerdict is the pure decision: whether etcd's generation g, against the highest
// generation seen the agent acted on (and whether it suspected a restore already), means a
// restore, and the seen value to keep. Once suspected, only an acceptance after seen ends
// it: a deploy or a rollout after the restore moves the generation past seen too, and must
// not let the agent remove the containers of the jobs deployed after the snapshot.
// An agent that has never seen a generation (a new agent, or a cluster whose masters
// predate generations) never suspects: the guard starts with the first generation seen.
// A host that is not registered (deregistered, or not yet) has no desired state to guard.
func restoreVerdict(seen int64, suspected bool, g generation) (suspect bool, keep int64) {
	switch {
	case !g.registered:
		return false, seen
	case seen > 0 && g.modRev < seen:
		return true, seen
	case suspected && g.accepted <= seen:
		return true, seen
	default:
		return false, max(seen, g.modRev)
	}
}

// splitForRestore separates from a plan every action that would stop, remove or replace a
// container, withdraw its endpoints or delete its status: what etcd's past state asks for
// and an operator has not accepted. What keeps containers running stays: restarting an
// exited one, reports, waits, health checks.
func splitForRestore(acts []action) (kept, held []action) {
	for _, act := range acts {
		switch {
		case act.Kind == actRemove, act.Kind == actStop, act.Kind == actWithdraw, act.Kind == actDeleteStatus,
			act.Kind == actStart && act.Reason != reasonRestartExited:
			held = append(held, act)
		default:
			kept = append(kept, act)
		}
	}
	return kept, held
}

// generationFile, in the state dir, holds the highest generation the agent acted on.
const generationFile = "generation"

// restoreGuard is the agent's side of the guard: the generation seen, kept on disk, and
// whether a restore is suspected now.
type restoreGuard struct {
	mu        sync.Mutex
	dir       string
	seen      int64
	suspected bool
}

// loadRestoreGuard reads the generation kept in dir (none: 0).
func loadRestoreGuard(dir string) (*restoreGuard, error) {
	b, err := os.ReadFile(filepath.Join(dir, generationFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &restoreGuard{dir: dir}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", generationFile, err)
	}
	seen, suspected, err := parseGeneration(b)
	if err != nil {
		return nil, fmt.Errorf("%s in the state dir %s: %w", generationFile, dir, err)
	}
	return &restoreGuard{dir: dir, seen: seen, suspected: suspected}, nil
}

// errBadGeneration: the generation file holds something else than a generation. The agent
// refuses to start rather than guess (an operator can delete the file: the guard then
// starts again from the next generation it sees).
var errBadGeneration = errors.New("not a generation")

// suspectWord follows the generation in the file while a restore is suspected, so that a
// restarted agent keeps holding back.
const suspectWord = "suspect"

// parseGeneration reads the generation file's content: one non-negative decimal number,
// then " suspect" while a restore is suspected, optionally followed by a newline.
func parseGeneration(b []byte) (int64, bool, error) {
	s := strings.TrimSuffix(string(b), "\n")
	s, suspected := strings.CutSuffix(s, " "+suspectWord)
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false, fmt.Errorf("%q: %w", b, errBadGeneration)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%q: %w", b, errBadGeneration)
	}
	return n, suspected, nil
}

// formatGeneration is the file's content for seen and suspected (parseGeneration's inverse).
func formatGeneration(seen int64, suspected bool) []byte {
	s := strconv.FormatInt(seen, 10)
	if suspected {
		s += " " + suspectWord
	}
	return []byte(s + "\n")
}

// check applies the verdict to g and tells whether a restore is suspected, whether that
// changed, and the generations compared. A higher generation is written to disk first
// (temporary file, sync, rename): once acted on, it must survive a crash.
func (r *restoreGuard) check(g generation) (suspect, changed bool, seen int64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	suspect, keep := restoreVerdict(r.seen, r.suspected, g)
	changed = suspect != r.suspected
	if keep != r.seen || changed {
		if err := writeFileSync(filepath.Join(r.dir, generationFile), formatGeneration(keep, suspect)); err != nil {
			// Not acting on what it could not record keeps the guard sound.
			return true, false, r.seen, err
		}
		r.seen = keep
	}
	r.suspected = suspect
	return suspect, changed, r.seen, nil
}

// writeFileSync writes b to path through a synced temporary file and a rename.
func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// restoreCheck is a pass's view of the guard: whether a restore is suspected and, when
// the generation was read from etcd (known), the generations compared.
type restoreCheck struct {
	suspect, known    bool
	etcdGen, agentGen int64
}

// restoreSuspected checks the generation the cache holds against the one acted on, and
// reports a change of verdict (log, gauge). Before the watch's first list it keeps the
// verdict it had: the deployments then come from the state dir, not from etcd.
func (a *Agent) restoreSuspected() restoreCheck {
	if a.guard == nil {
		return restoreCheck{}
	}
	g, known := a.cache.generation()
	if !known {
		a.guard.mu.Lock()
		defer a.guard.mu.Unlock()
		return restoreCheck{suspect: a.guard.suspected, agentGen: a.guard.seen}
	}
	suspect, changed, seen, err := a.guard.check(g)
	if err != nil {
		a.log.Error("record the host's generation in the state dir; holding back removals until it can", zap.Error(err))
	}
	switch {
	case changed && suspect:
		a.m.restoreSuspected.Set(1)
		a.log.Warn("etcd holds an older desired state of this host than the agent acted on (restored from a snapshot?): no container will be stopped, removed or replaced until an operator runs `helios accept-restore "+a.cfg.Name+"`",
			zap.Int64("etcd-generation", g.modRev), zap.Int64("agent-generation", seen))
	case changed:
		a.m.restoreSuspected.Set(0)
		a.log.Info("restore accepted: converging to etcd's desired state", zap.Int64("etcd-generation", g.modRev))
	}
	return restoreCheck{suspect: suspect, known: true, etcdGen: g.modRev, agentGen: seen}
}

// holdForRestore drops the plan's actions a suspected restore holds back and logs them;
// a full pass sets helios_agent_restore_held_actions.
func (a *Agent) holdForRestore(acts []action, all bool) []action {
	kept, held := splitForRestore(acts)
	for _, act := range held {
		a.log.Info("held back: etcd may have been restored from a snapshot", zap.String("action", act.String()))
	}
	if all {
		a.m.restoreHeld.Set(float64(len(held)))
	}
	return kept
}
