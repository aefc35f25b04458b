package store

import (
	"errors"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The client's retry warning is lowered to info for an expired token only; every other
// warning, and the retry of any other error, stays a warning. Below the logger's level
// nothing is written.
func TestQuietRenewals(t *testing.T) {
	expired := status.Error(codes.Unauthenticated, rpctypes.ErrInvalidAuthToken.Error()) // as the server sends it
	for _, tc := range []struct {
		name  string
		level zapcore.Level // the logger's
		msg   string
		err   error
		want  []zapcore.Level
	}{
		{"expired token renewed", zapcore.InfoLevel, retryWarning, expired, []zapcore.Level{zapcore.InfoLevel}},
		{"expired token, client's own error value", zapcore.InfoLevel, retryWarning, rpctypes.ErrInvalidAuthToken, []zapcore.Level{zapcore.InfoLevel}},
		{"expired token, warn-level logger", zapcore.WarnLevel, retryWarning, expired, nil},
		{"another error retried", zapcore.InfoLevel, retryWarning, status.Error(codes.Unavailable, "etcdserver: leader changed"), []zapcore.Level{zapcore.WarnLevel}},
		{"renewal failed", zapcore.InfoLevel, "retrying of unary invoker failed to fetch new auth token", expired, []zapcore.Level{zapcore.WarnLevel}},
		{"no error field", zapcore.InfoLevel, retryWarning, nil, []zapcore.Level{zapcore.WarnLevel}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(tc.level)
			l := quietRenewals(zap.New(core)).With(zap.String("component", "client"))
			var fields []zap.Field
			if tc.err != nil {
				fields = append(fields, zap.Error(tc.err))
			}
			l.Warn(tc.msg, append(fields, zap.String("method", "/etcdserverpb.KV/Range"))...)
			var got []zapcore.Level
			for _, e := range logs.All() {
				got = append(got, e.Level)
				if e.Message != tc.msg || len(e.Context) < 2 {
					t.Errorf("entry %q with %d fields, want %q with its fields", e.Message, len(e.Context), tc.msg)
				}
			}
			if len(got) != len(tc.want) || (len(got) == 1 && got[0] != tc.want[0]) {
				t.Errorf("logged at %v, want %v", got, tc.want)
			}
		})
	}
	if !errors.Is(rpctypes.Error(status.Error(codes.Unauthenticated, rpctypes.ErrInvalidAuthToken.Error())), rpctypes.ErrInvalidAuthToken) {
		t.Fatal("rpctypes no longer maps the server's invalid-token status to ErrInvalidAuthToken")
	}
}
