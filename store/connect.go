package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Client keepalive: ping an idle connection every 10 s and drop it after 3 s without an
// answer, so a dead etcd member is noticed and the client fails over to another endpoint.
const (
	keepAliveTime    = 10 * time.Second
	keepAliveTimeout = 3 * time.Second
)

// Connect returns an etcd client for endpoints. It does not wait for etcd to answer (an
// agent must start and keep its containers even while etcd is down): the first request
// fails with ErrUnavailable instead. dialTimeout bounds each connection attempt.
func Connect(ctx context.Context, endpoints []string, dialTimeout time.Duration, log *zap.Logger) (*clientv3.Client, error) {
	return ConnectWith(ctx, ConnectConfig{Endpoints: endpoints, DialTimeout: dialTimeout, Logger: log})
}
