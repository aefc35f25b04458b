package store

// This file fixes the exported surface of the store that the master, the agent and the
// controller are written against. Bodies live in the files named after what they hold.

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Sentinel errors, wrapped with context by every method (test with errors.Is).
var (
	ErrNotFound    = errors.New("not found")
	ErrExists      = errors.New("already exists")
	ErrConflict    = errors.New("conflict")
	ErrNotLeader   = errors.New("not leader")
	ErrUnavailable = errors.New("etcd unavailable")

	ErrJobNotFound     = errors.New("job not found")
	ErrHostNotFound    = errors.New("host not found")
	ErrAlreadyDeployed = errors.New("job already deployed")
	ErrNotDeployed     = errors.New("job not deployed")
	ErrPortConflict    = errors.New("port conflict")
	ErrStillInUse      = errors.New("job still in use")
	ErrForbidden       = errors.New("token mismatch")
	ErrInvalidName     = errors.New("invalid name")

	ErrDeploymentGroupNotFound = errors.New("deployment group not found")
	ErrNotPaused               = errors.New("deployment group not paused")
	ErrTooLarge                = errors.New("too large for one etcd transaction")
	ErrHostUp                  = errors.New("refusing to deregister a host that is UP")
	// ErrDeadline: the caller's own deadline passed while etcd was answering.
	ErrDeadline = errors.New("request deadline exceeded")
	// ErrPermissionDenied: etcd authentication is on and this process's etcd user may not
	// read or write the key (see docs/etcd-keys.md for what each role may touch).
	ErrPermissionDenied = errors.New("etcd permission denied")
)

// Config configures a Store.
type Config struct {
	Prefix         string                // key root, default "/helios"
	RequestTimeout time.Duration         // deadline of every etcd call, default 5s
	HistoryLimit   int                   // events kept per job and host, default 30
	Logger         *zap.Logger           // nil: no logs
	Registerer     prometheus.Registerer // nil: no metrics
}
