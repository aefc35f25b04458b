package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// TLSFiles name the PEM files for talking to etcd over TLS. A CA alone verifies the
// server; a certificate and key as well authenticate the client (etcd --client-cert-auth).
type TLSFiles struct {
	CAFile, CertFile, KeyFile string
}

// Enabled tells whether any TLS file was given.
func (f TLSFiles) Enabled() bool { return f.CAFile != "" || f.CertFile != "" || f.KeyFile != "" }

func (f TLSFiles) info() (transport.TLSInfo, error) {
	if (f.CertFile == "") != (f.KeyFile == "") {
		return transport.TLSInfo{}, errors.New("etcd TLS: a client certificate needs its key and a key its certificate")
	}
	return transport.TLSInfo{CertFile: f.CertFile, KeyFile: f.KeyFile, TrustedCAFile: f.CAFile}, nil
}

// ConnectConfig says how to reach an etcd cluster.
type ConnectConfig struct {
	Endpoints          []string
	DialTimeout        time.Duration // bounds each connection attempt; default 5s
	TLS                TLSFiles      // optional
	Username, Password string        // optional etcd auth (etcdctl user add ...)
	Logger             *zap.Logger
}

// connect makes the etcd client Open uses, with TLS and authentication when configured.
func connect(ctx context.Context, cfg ConnectConfig) (*clientv3.Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("connect to etcd: no endpoints")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	cc := clientv3.Config{
		Endpoints:            cfg.Endpoints,
		DialTimeout:          cfg.DialTimeout,
		DialKeepAliveTime:    keepAliveTime,
		DialKeepAliveTimeout: keepAliveTimeout,
		Username:             cfg.Username,
		Password:             cfg.Password,
		Logger:               quietRenewals(cfg.Logger),
	}
	if cfg.TLS.Enabled() {
		info, err := cfg.TLS.info()
		if err != nil {
			return nil, err
		}
		tc, err := info.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("etcd TLS: %w", err)
		}
		cc.TLS = tc
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("connect to etcd at %v: %w", cfg.Endpoints, err)
	}
	return cli, nil
}
