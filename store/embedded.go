package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Defaults of EmbedConfig.
const (
	DefaultClientURL = "http://127.0.0.1:2379"
	DefaultPeerURL   = "http://127.0.0.1:2380"
	defaultEmbedName = "helios"
	embedReadyWait   = 60 * time.Second
)

// EmbedConfig configures an etcd member run inside the process (helios-solo, small
// setups, tests).
type EmbedConfig struct {
	Name, DataDir      string // member name ("" = "helios"); data directory, required
	ClientURL, PeerURL string // e.g. http://127.0.0.1:2379 ; "" = that default
	// ClientTLS, when set, serves clients over TLS (the client URL must be https); with a CA
	// file clients must present a certificate signed by it.
	ClientTLS TLSFiles
	// PeerTLS, when set, serves and dials the other members over TLS (the peer URLs must
	// be https) with this member's certificate; a peer must present a certificate signed by
	// the CA file (required), so nothing else on the network can join or read the raft log.
	PeerTLS TLSFiles
	// JWT, when set, makes the member issue signed JWT authentication tokens that every
	// member given the same pair accepts, instead of etcd's default simple tokens that
	// each member keeps in memory (see JWTKeys). A cluster with authentication needs it
	// for its clients to fail over without logging in again.
	JWT           JWTKeys
	UnsafeNoFsync bool // tests only: a crash loses data
	Logger        *zap.Logger
	// InitialCluster lists every member of a new cluster as name=peerURL,... ("" = this
	// member alone). Members of a cluster must be started together: none is ready before a
	// quorum is. A member restarted on its data dir rejoins from what it stored.
	InitialCluster string
}

// Embedded is a running in-process etcd member.
type Embedded struct {
	etcd      *embed.Etcd
	endpoints []string
	closeOnce sync.Once
	closing   *atomic.Bool // set before Close: the member's shutdown noise is logged at info
}

// StartEmbedded starts a single-member etcd and waits until it serves (at most 60 s).
// Its data lives in cfg.DataDir and survives a restart on the same directory. History
// older than one hour is compacted away periodically, so the database does not grow
// without bound; watchers that fall that far behind list again.
func StartEmbedded(ctx context.Context, cfg EmbedConfig) (*Embedded, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("start embedded etcd: no data directory")
	}
	if cfg.Name == "" {
		cfg.Name = defaultEmbedName
	}
	if cfg.ClientURL == "" {
		cfg.ClientURL = DefaultClientURL
	}
	if cfg.PeerURL == "" {
		cfg.PeerURL = DefaultPeerURL
	}
	curl, err := url.Parse(cfg.ClientURL)
	if err != nil {
		return nil, fmt.Errorf("etcd client url %q: %w", cfg.ClientURL, err)
	}
	purl, err := url.Parse(cfg.PeerURL)
	if err != nil {
		return nil, fmt.Errorf("etcd peer url %q: %w", cfg.PeerURL, err)
	}

	ec := embed.NewConfig()
	ec.Name = cfg.Name
	ec.Dir = cfg.DataDir
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{*curl}, []url.URL{*curl}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{*purl}, []url.URL{*purl}
	ec.InitialCluster = cfg.Name + "=" + purl.String()
	if cfg.InitialCluster != "" {
		ec.InitialCluster = cfg.InitialCluster
	}
	ec.AutoCompactionMode = embed.CompactorModePeriodic
	ec.AutoCompactionRetention = "1h"
	ec.UnsafeNoFsync = cfg.UnsafeNoFsync
	if cfg.ClientTLS.Enabled() {
		ec.ClientTLSInfo = cfg.ClientTLS.serverInfo()
	}
	if err := checkPeerTLS(purl, cfg.PeerTLS); err != nil {
		return nil, err
	}
	if cfg.PeerTLS.Enabled() {
		ec.PeerTLSInfo = cfg.PeerTLS.serverInfo()
	}
	if ec.AuthToken, err = cfg.JWT.authToken(); err != nil {
		return nil, err
	}
	closing := new(atomic.Bool)
	if cfg.Logger != nil {
		ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(cfg.Logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
			return quietCore{Core: c, closing: closing}
		})))
	} else {
		ec.LogLevel = "error"
	}

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", cfg.DataDir, err)
	}
	m := &Embedded{etcd: e, endpoints: []string{curl.String()}, closing: closing}
	timer := time.NewTimer(embedReadyWait)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		m.Close()
		return nil, fmt.Errorf("embedded etcd failed while starting: %w", err)
	case <-timer.C:
		m.Close()
		return nil, fmt.Errorf("embedded etcd not ready after %s", embedReadyWait)
	case <-ctx.Done():
		m.Close()
		return nil, fmt.Errorf("start embedded etcd: %w", ctx.Err())
	}
	return m, nil
}

// serverInfo is etcd's TLS of a listener serving with these files: a CA file turns on
// client-certificate authentication.
func (f TLSFiles) serverInfo() transport.TLSInfo {
	return transport.TLSInfo{
		CertFile: f.CertFile, KeyFile: f.KeyFile, TrustedCAFile: f.CAFile, ClientCertAuth: f.CAFile != "",
	}
}

// checkPeerTLS refuses a peer URL and peer TLS files that disagree, naming both, before
// etcd starts: etcd would fail later with a less telling error, or leave the files unused.
func checkPeerTLS(peer *url.URL, f TLSFiles) error {
	switch {
	case peer.Scheme == "https" && (f.CertFile == "" || f.KeyFile == "" || f.CAFile == ""):
		return fmt.Errorf("etcd peer url %s is https: it needs this member's certificate and key and the peers' CA", peer)
	case peer.Scheme != "https" && f.Enabled():
		return fmt.Errorf("etcd peer TLS files given, but the peer url %s is not https", peer)
	}
	return nil
}

// Endpoints are the client URLs to connect to.
func (e *Embedded) Endpoints() []string { return append([]string(nil), e.endpoints...) }

// Err delivers errors of the running member's servers, for a process that must stop with it.
func (e *Embedded) Err() <-chan error { return e.etcd.Err() }

// Close stops the member and waits until it has; later calls do nothing.
func (e *Embedded) Close() {
	e.closeOnce.Do(func() {
		e.closing.Store(true)
		e.etcd.Close()
	})
}
