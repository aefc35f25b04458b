package store

import (
	"context"
	"time"
)

// Client keepalive: ping an idle connection every 10 s and drop it after 3 s without an
// answer, so a dead etcd member is noticed and the client fails over to another endpoint.
const (
	keepAliveTime    = 10 * time.Second
	keepAliveTimeout = 3 * time.Second
)

// Open connects to etcd and returns a Store over it; Close releases the connection. It
// does not wait for etcd to answer (an agent must start and keep its containers even while
// etcd is down): the first request fails with ErrUnavailable instead. A bad certificate
// file fails here, at once, naming the file.
func Open(ctx context.Context, cc ConnectConfig, cfg Config) (*Store, error) {
	cli, err := connect(ctx, cc)
	if err != nil {
		return nil, err
	}
	s := newStore(cli, cfg)
	s.owned = true
	return s, nil
}

// Close closes the etcd connection Open made.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	return s.cli.Close()
}

// Endpoints are the etcd endpoints the store talks to.
func (s *Store) Endpoints() []string { return s.cli.Endpoints() }
