package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Defaults of Config.
const (
	DefaultRequestTimeout = 5 * time.Second
	DefaultHistoryLimit   = 30
)

// maxTxnOps is etcd's default limit of operations in one transaction (--max-txn-ops).
const maxTxnOps = 128

// casAttempts bounds how often a guarded transaction is retried when its compares fail
// but re-reading finds nothing to refuse (another writer changed an unrelated guard).
const casAttempts = 5

// Store reads and writes Helios's state in etcd. It is safe for concurrent use.
type Store struct {
	cli     *clientv3.Client
	owned   bool // Open made cli: Close closes it
	cfg     Config
	keys    Keys
	log     *zap.Logger
	metrics *metrics
	// fastFail is the last probe of the endpoints while the connection is down (fastfail.go).
	fastFail *fastFail
}

// newStore returns a Store over cli, filling Config's defaults.
func newStore(cli *clientv3.Client, cfg Config) *Store {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.HistoryLimit <= 0 {
		cfg.HistoryLimit = DefaultHistoryLimit
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &Store{
		cli:      cli,
		cfg:      cfg,
		keys:     NewKeys(cfg.Prefix),
		log:      cfg.Logger,
		metrics:  newMetrics(cfg.Registerer, cfg.Logger),
		fastFail: &fastFail{},
	}
}

// Keys is the key builder for the store's root.
func (s *Store) Keys() Keys { return s.keys }

// call runs one etcd request under the request deadline, counting its duration and
// failure under op, and translating "cannot reach etcd" into ErrUnavailable.
func (s *Store) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	start := time.Now()
	if err := s.checkReachable(ctx); err != nil {
		s.metrics.observe(op, time.Since(start), err)
		return fmt.Errorf("etcd %s: %w", op, err)
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	err := fn(cctx)
	s.metrics.observe(op, time.Since(start), err)
	if err != nil {
		return etcdError(ctx, op, err)
	}
	return nil
}

func (s *Store) get(ctx context.Context, op, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	var resp *clientv3.GetResponse
	err := s.call(ctx, op, func(ctx context.Context) error {
		var err error
		resp, err = s.cli.Get(ctx, key, opts...)
		return err
	})
	return resp, err
}

func (s *Store) put(ctx context.Context, op, key, val string, opts ...clientv3.OpOption) error {
	return s.call(ctx, op, func(ctx context.Context) error {
		_, err := s.cli.Put(ctx, key, val, opts...)
		return err
	})
}

func (s *Store) txn(ctx context.Context, op string, cmps []clientv3.Cmp, then []clientv3.Op) (*clientv3.TxnResponse, error) {
	var resp *clientv3.TxnResponse
	err := s.call(ctx, op, func(ctx context.Context) error {
		var err error
		resp, err = s.cli.Txn(ctx).If(cmps...).Then(then...).Commit()
		return err
	})
	return resp, err
}

// read performs several reads at one revision: a transaction without compares.
func (s *Store) read(ctx context.Context, op string, gets ...clientv3.Op) ([]*clientv3.GetResponse, int64, error) {
	resp, err := s.txn(ctx, op, nil, gets)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*clientv3.GetResponse, len(resp.Responses))
	for i, r := range resp.Responses {
		out[i] = (*clientv3.GetResponse)(r.GetResponseRange())
	}
	return out, resp.Header.Revision, nil
}

// getMany reads single keys, maxTxnOps at a time, and returns the values found by key.
func (s *Store) getMany(ctx context.Context, op string, keys []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	for start := 0; start < len(keys); start += maxTxnOps {
		end := min(start+maxTxnOps, len(keys))
		gets := make([]clientv3.Op, 0, end-start)
		for _, k := range keys[start:end] {
			gets = append(gets, clientv3.OpGet(k))
		}
		resps, _, err := s.read(ctx, op, gets...)
		if err != nil {
			return nil, err
		}
		for _, r := range resps {
			for _, kv := range r.Kvs {
				out[string(kv.Key)] = kv.Value
			}
		}
	}
	return out, nil
}

func encode(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}

func decode(key string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// checkObject tells whether b is one JSON object, as every stored document is: what a
// listing passes on without decoding gets this check, one scan of its bytes, instead.
func checkObject(key string, b []byte) error {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return fmt.Errorf("decode %s: not a JSON object", key)
	}
	return nil
}

// skipBad logs a value that does not decode in a listing: one corrupt key must not hide
// all the others.
func (s *Store) skipBad(err error) {
	s.log.Warn("skipping undecodable etcd value", zap.Error(err))
}
