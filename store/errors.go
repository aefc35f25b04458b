package store

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrInvalidGoal is returned by SetGoal for a goal that is not START, STOP or UNDEPLOY.
var ErrInvalidGoal = errors.New("invalid goal")

// etcdError wraps err from an etcd call. Whatever means "etcd cannot answer now" (the
// request deadline passing, no connection, no leader, a server-side timeout) also wraps
// ErrUnavailable, so the API can answer 503 and loops can back off. A canceled caller
// context is not unavailability: it is returned as is, wrapped.
func etcdError(parent context.Context, op string, err error) error {
	if parent.Err() != nil && errors.Is(err, context.Canceled) {
		return fmt.Errorf("etcd %s: %w", op, err)
	}
	// The caller's own deadline (not the store's per-call one) passed: etcd may be well,
	// only slow for this request.
	if errors.Is(parent.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("etcd %s: %w: %w", op, ErrDeadline, err)
	}
	if isDenied(err) {
		return fmt.Errorf("etcd %s: %w: %w", op, ErrPermissionDenied, err)
	}
	if isUnavailable(err) {
		return fmt.Errorf("etcd %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("etcd %s: %w", op, err)
}

func isUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, clientv3.ErrNoAvailableEndpoints) {
		return true
	}
	for _, e := range []error{rpctypes.ErrNoLeader, rpctypes.ErrNotLeader, rpctypes.ErrLeaderChanged,
		rpctypes.ErrStopped, rpctypes.ErrTimeout, rpctypes.ErrTimeoutDueToLeaderFail,
		rpctypes.ErrTimeoutDueToConnectionLost, rpctypes.ErrTimeoutWaitAppliedIndex, rpctypes.ErrUnhealthy} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return unavailableCode(ee.Code())
	}
	if st, ok := status.FromError(err); ok {
		return unavailableCode(st.Code())
	}
	return false
}

func unavailableCode(c codes.Code) bool {
	return c == codes.Unavailable || c == codes.DeadlineExceeded
}

// isDenied tells whether etcd refused the request for want of a permission, of valid
// credentials (a removed user, a changed password), or of any credentials at all while
// authentication is on.
func isDenied(err error) bool {
	for _, e := range []error{rpctypes.ErrPermissionDenied, rpctypes.ErrGRPCPermissionDenied,
		rpctypes.ErrAuthFailed, rpctypes.ErrGRPCAuthFailed, rpctypes.ErrUserEmpty, rpctypes.ErrGRPCUserEmpty} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
