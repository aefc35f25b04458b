package store

import (
	"strings"
	"sync/atomic"

	"go.uber.org/zap/zapcore"
)

// quietCore lowers to info the embedded member's warnings and errors that say nothing is
// wrong, so that a clean start or stop of helios-solo logs no warning or error:
//   - once Close has begun, etcd reports each of its own listeners closing as an error
//     ("setting up serving from embedded etcd failed": etcd-io/etcd#17424) and its servers
//     stopping as warnings; a process that is stopping has nothing more to learn from them;
//   - at start it warns about choices made on purpose for one local member (below).
type quietCore struct {
	zapcore.Core
	closing *atomic.Bool
}

// expectedWarnings start the messages the embedded member logs at every start for choices
// made on purpose: clients served on one port, and the simple auth token (auth is off).
var expectedWarnings = []string{
	"Running http and grpc server on single port",
	"simple token is not cryptographically signed",
}

func (c quietCore) With(fields []zapcore.Field) zapcore.Core {
	return quietCore{Core: c.Core.With(fields), closing: c.closing}
}

func (c quietCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if (e.Level == zapcore.WarnLevel || e.Level == zapcore.ErrorLevel) && (c.closing.Load() || expected(e.Message)) {
		e.Level = zapcore.InfoLevel
	}
	return c.Core.Check(e, ce)
}

func expected(msg string) bool {
	for _, w := range expectedWarnings {
		if strings.HasPrefix(msg, w) {
			return true
		}
	}
	return false
}
