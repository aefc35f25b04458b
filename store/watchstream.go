package store

import (
	"context"
	"math/rand/v2"
	"strconv"

	"google.golang.org/grpc/metadata"
)

// watchStreamKey is the gRPC metadata that sets a watch's stream apart (etcd ignores it).
const watchStreamKey = "helios-watch-stream"

// ownWatchStream gives the watches started with ctx a gRPC stream of their own. clientv3
// puts every watch whose context carries the same metadata on one shared stream, and etcd
// checks each new watch against the authentication token that stream was opened with.
// A JWT expires (etcd's ttl, 5 minutes by default) however much it is used, so a watch
// added to a stream older than that would be refused ("invalid auth token") as long as the
// stream lives, which is as long as any of its watches does: a new stream is opened with
// a fresh token. The stream ends with the last of its watches. Random values are unique
// enough: two watches that drew the same one would only share a stream, as before.
func ownWatchStream(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, watchStreamKey, strconv.FormatUint(rand.Uint64(), 36))
}
