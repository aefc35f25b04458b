package store

import (
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// retryWarning is what etcd's client logs (at warn) before it retries a request.
const retryWarning = "retrying of unary invoker failed"

// renewalCore lowers to info the etcd client's retry warning when the error was an expired
// auth token: with JWT tokens (a cluster's etcd, docs/operations.md) the client's token
// expires every few minutes whatever its use, the client fetches a new one and retries, and
// nothing is wrong. A renewal that fails is still a warning (etcd logs it as "…failed to
// fetch new auth token"), and so is a retry for any other error.
type renewalCore struct{ zapcore.Core }

func quietRenewals(l *zap.Logger) *zap.Logger {
	return l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return renewalCore{c} }))
}

func (c renewalCore) With(fields []zapcore.Field) zapcore.Core {
	return renewalCore{c.Core.With(fields)}
}

func (c renewalCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Level == zapcore.WarnLevel && e.Message == retryWarning && c.Enabled(e.Level) {
		return ce.AddCore(e, c) // the error is among the fields: Write decides
	}
	return c.Core.Check(e, ce)
}

func (c renewalCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	if e.Message == retryWarning && tokenExpired(fields) {
		if !c.Core.Enabled(zapcore.InfoLevel) {
			return nil
		}
		e.Level = zapcore.InfoLevel
	}
	return c.Core.Write(e, fields)
}

func tokenExpired(fields []zapcore.Field) bool {
	for _, f := range fields {
		// The same test as the client's own before it fetches a new token.
		if err, ok := f.Interface.(error); ok && f.Type == zapcore.ErrorType &&
			errors.Is(rpctypes.Error(err), rpctypes.ErrInvalidAuthToken) {
			return true
		}
	}
	return false
}
