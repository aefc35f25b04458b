package store

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/helios-go/helios/model"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// MirrorResult counts what one mirror pass wrote, and says whether it read everything.
type MirrorResult struct {
	Puts, Deletes int
	// FullRead is why the pass read every endpoint and record (a FullRead* word), or ""
	// when it applied what the watch delivered.
	FullRead string
}

// Why a DNSMirror pass reads everything.
const (
	FullReadStart     = "start"     // its first pass
	FullReadInterval  = "interval"  // Resync was called (--dns-resync-interval)
	FullReadCompacted = "compacted" // the endpoint watch fell behind etcd's compaction
	FullReadError     = "error"     // a pass failed: what is written is not known
)

// FullReadReasons is every FullRead word, for metrics that start at zero.
func FullReadReasons() []string {
	return []string{FullReadStart, FullReadInterval, FullReadCompacted, FullReadError}
}

// MirrorDNS makes the SkyDNS records Helios owns under path match what is published now, in
// one pass that reads everything (a DNSMirror's first pass, without its watch). ttl is the
// records' DNS TTL.
func (s *Store) MirrorDNS(ctx context.Context, l *Leadership, path string, ttl time.Duration) (MirrorResult, error) {
	m := s.NewDNSMirror(path, ttl)
	m.noWatch = true
	return m.Pass(ctx, l)
}

// DNSMirror is the leader's mirror of the endpoints agents publish and the live masters
// into SkyDNS records under path (docs/discovery.md). It is level triggered, and watch-fed:
// its first pass reads every host's endpoints and the records under path at one revision,
// and starts a watch of the endpoint keys from the next; later passes apply what the watch
// delivered to the endpoints it keeps, compare with the records it knows it wrote, and
// write the difference, fenced by the leadership, in transactions of at most 127 writes.
// So a change costs its own writes, not a read of every host's status. It reads everything
// again when Resync asks, when the watch fell behind compaction, and after a failed pass
// (what is written is then not known). The live masters, a handful, are read every pass.
// Records carry no lease: when no leader runs they stay as they are, and the next
// leader's first pass catches up. One goroutine calls Pass; Close ends the watch.
type DNSMirror struct {
	s       *Store
	path    string
	ttl     uint32
	changed chan struct{} // one value: the watch applied changes since the last pass
	noWatch bool          // MirrorDNS: one pass, nothing to follow

	mu      sync.Mutex
	sources map[string]map[string]string // endpoint key → the records of its endpoints
	gen     int                          // of the last full read; older watches' events are dropped
	reason  string                       // non-empty: the next pass reads everything, and why

	// Only Pass's goroutine touches these.
	actual    map[string]string // the records Helios owns, as the last pass left them
	others    map[string]bool   // keys held by records Helios does not own (hand-made)
	stopWatch context.CancelFunc
	watchDone chan struct{}
}

// NewDNSMirror is a mirror whose first Pass reads everything.
func (s *Store) NewDNSMirror(path string, ttl time.Duration) *DNSMirror {
	return &DNSMirror{s: s, path: SkyDNSPath(path), ttl: dnsTTL(ttl), changed: make(chan struct{}, 1), reason: FullReadStart}
}

// Changed receives a value when the watch delivered endpoint changes the next Pass applies.
func (m *DNSMirror) Changed() <-chan struct{} { return m.changed }

// Resync makes the next Pass read everything again (unless a reason is already pending).
func (m *DNSMirror) Resync() { m.needFull(FullReadInterval) }

func (m *DNSMirror) needFull(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reason == "" {
		m.reason = reason
	}
}

// Close stops the watch and waits for it.
func (m *DNSMirror) Close() {
	if m.stopWatch != nil {
		m.stopWatch()
		<-m.watchDone
		m.stopWatch = nil
	}
}

// Pass makes the records match what is published, as far as the mirror knows it. The
// watch a full read starts lives until ctx ends or Close: give it the leadership term's.
func (m *DNSMirror) Pass(ctx context.Context, l *Leadership) (MirrorResult, error) {
	m.mu.Lock()
	reason := m.reason
	m.mu.Unlock()
	var res MirrorResult
	if reason != "" {
		if err := m.readAll(ctx); err != nil {
			return res, err
		}
		res.FullRead = reason
	}
	masters, err := m.s.ListMasters(ctx)
	if err != nil {
		return res, err
	}
	m.mu.Lock()
	desired := masterRecords(m.path, m.s.keys.Root(), m.ttl, masters)
	for _, recs := range m.sources {
		for k, v := range recs {
			desired[k] = v
		}
	}
	m.mu.Unlock()
	put, del := recordDiff(desired, m.actual, m.others)
	w, err := m.write(ctx, l, put, del)
	res.Puts, res.Deletes = w.Puts, w.Deletes
	if err != nil {
		m.needFull(FullReadError)
	}
	return res, err
}

// readAll reads every host's endpoints and the records under the path, and (re)starts the
// watch from the revision the endpoints were read at. The hosts that have endpoints come
// from one keys-only range over the hosts' status (which holds far more than endpoints).
func (m *DNSMirror) readAll(ctx context.Context) error {
	s := m.s
	resp, err := s.get(ctx, "list-endpoint-keys", s.keys.HostStatuses(), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return err
	}
	rev := resp.Header.Revision
	hosts := []string{}
	seen := map[string]bool{}
	for _, kv := range resp.Kvs {
		h, rest, ok := splitUnder(s.keys.HostStatuses(), string(kv.Key))
		if ok && strings.HasPrefix(rest, "endpoints/") && !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	sources := map[string]map[string]string{}
	for start := 0; start < len(hosts); start += maxTxnOps {
		chunk := hosts[start:min(start+maxTxnOps, len(hosts))]
		gets := make([]clientv3.Op, 0, len(chunk))
		for _, h := range chunk {
			gets = append(gets, clientv3.OpGet(s.keys.Endpoints(h), clientv3.WithPrefix(), clientv3.WithRev(rev)))
		}
		resps, _, err := s.read(ctx, "list-endpoints", gets...)
		if err != nil {
			return err
		}
		for i, r := range resps {
			for _, kv := range r.Kvs {
				if recs, ok := m.recordsOf(chunk[i], string(kv.Key), kv.Value); ok {
					sources[string(kv.Key)] = recs
				}
			}
		}
	}
	list, err := s.get(ctx, "list-skydns", m.path+"/", clientv3.WithPrefix())
	if err != nil {
		return err
	}
	actual, others := map[string]string{}, map[string]bool{}
	for _, kv := range list.Kvs {
		if ownedBy(kv.Value, s.keys.Root()) {
			actual[string(kv.Key)] = string(kv.Value)
		} else {
			others[string(kv.Key)] = true
		}
	}
	m.Close() // the old watch's events are in what was just read, or dropped by gen
	m.mu.Lock()
	m.sources, m.reason = sources, ""
	m.gen++
	gen := m.gen
	m.mu.Unlock()
	m.actual, m.others = actual, others
	if !m.noWatch {
		wctx, cancel := context.WithCancel(ctx)
		m.stopWatch, m.watchDone = cancel, make(chan struct{})
		go func() {
			defer close(m.watchDone)
			m.follow(wctx, gen, rev+1)
		}()
	}
	return nil
}

// recordsOf is the records of one endpoint key's value; false for a value that does not
// decode (skipped, as every reader skips bad values).
func (m *DNSMirror) recordsOf(host, key string, value []byte) (map[string]string, bool) {
	var je model.JobEndpoints
	if err := decode(key, value, &je); err != nil {
		m.s.skipBad(err)
		return nil, false
	}
	out := map[string]string{}
	for _, ep := range je.Endpoints {
		out[SkyDNSRecordKey(m.path, host, ep)] = skyDNSValue(m.s.keys.Root(), host, ep, m.ttl)
	}
	return out, true
}

// follow watches the endpoint keys from revision from on and applies each change to the
// sources of full read gen. A broken watch resumes where it was; one that fell behind
// compaction asks for a full read (which starts a new watch) and ends. The watch covers the
// hosts' whole status prefix (etcd watches prefixes; endpoints are one segment below each
// host), and drops every other key.
func (m *DNSMirror) follow(ctx context.Context, gen int, from int64) {
	backoff := watchBackoffMin
	for {
		delivered, err := m.s.watchFrom(ctx, m.s.keys.HostStatuses(), from, func(evs []Event) {
			m.apply(gen, evs)
			from = evs[len(evs)-1].Revision + 1
		})
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrCompacted) {
			m.s.log.Warn("DNS mirror's endpoint watch fell behind compaction, reading everything again", zap.Error(err))
			m.needFull(FullReadCompacted)
			m.poke()
			return
		}
		if delivered {
			backoff = watchBackoffMin
		}
		m.s.log.Info("DNS mirror's endpoint watch broke, resuming", zap.Int64("from-revision", from), zap.Error(err))
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, watchBackoffMax)
	}
}

// apply takes a batch of watched changes into the sources, if they are still of the
// current full read, and pokes Changed when an endpoint key was among them.
func (m *DNSMirror) apply(gen int, evs []Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.gen {
		return
	}
	touched := false
	for _, ev := range evs {
		host, rest, ok := splitUnder(m.s.keys.HostStatuses(), ev.Key)
		job, isEndpoint := strings.CutPrefix(rest, "endpoints/")
		if !ok || !isEndpoint || job == "" || strings.Contains(job, "/") {
			continue
		}
		touched = true
		if ev.Type == EventDelete {
			delete(m.sources, ev.Key)
			continue
		}
		if recs, ok := m.recordsOf(host, ev.Key, ev.Value); ok {
			m.sources[ev.Key] = recs
		} else {
			delete(m.sources, ev.Key)
		}
	}
	if touched {
		m.poke()
	}
}

func (m *DNSMirror) poke() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// write deletes del and puts put, fenced by l, and keeps actual in step with what was
// committed.
func (m *DNSMirror) write(ctx context.Context, l *Leadership, put map[string]string, del []string) (MirrorResult, error) {
	ops := make([]clientv3.Op, 0, len(put)+len(del))
	// Deletions first: a record that must go matters more than one that may wait a pass.
	for _, k := range del {
		ops = append(ops, clientv3.OpDelete(k))
	}
	keys := make([]string, 0, len(put))
	for k := range put {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ops = append(ops, clientv3.OpPut(k, put[k]))
	}
	var res MirrorResult
	// The fence's transaction nests the change, which costs etcd one operation of its 128.
	const perTxn = maxTxnOps - 1
	for start := 0; start < len(ops); start += perTxn {
		chunk := ops[start:min(start+perTxn, len(ops))]
		err := m.s.guarded(ctx, "mirror-dns", l, func(context.Context) (*change, error) {
			return &change{ops: chunk}, nil
		})
		if err != nil {
			return res, err
		}
		for _, op := range chunk {
			k := string(op.KeyBytes())
			if op.IsDelete() {
				res.Deletes++
				delete(m.actual, k)
			} else {
				res.Puts++
				m.actual[k] = put[k]
			}
		}
	}
	return res, nil
}

// dnsTTL is ttl in whole seconds, at least one (0 would make CoreDNS use its default, 300).
func dnsTTL(ttl time.Duration) uint32 {
	return uint32(max(1, min(math.MaxInt32, int64(math.Ceil(ttl.Seconds())))))
}

// PokeMasters is Poke for the live masters, whose DNS entries the mirror publishes.
func (s *Store) PokeMasters(ctx context.Context) <-chan struct{} {
	return s.Poke(ctx, s.keys.Masters())
}
