package agent

import (
	"context"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
)

// Store is the part of *store.Store the agent uses (consumer-side, so tests may wrap it).
type Store interface {
	EnsureClusterUID(ctx context.Context, proposed string) (string, error)
	HostID(ctx context.Context, host string) (string, error)
	RegisterHost(ctx context.Context, host, id string) error
	GetJob(ctx context.Context, id model.JobID) (*model.Job, error)
	HostDeployments(ctx context.Context, host string) (map[model.JobID]model.Deployment, map[model.JobID]model.Job, int64, error)
	HostGeneration(ctx context.Context, host string) (store.Generation, error)
	RestoreSuspected(ctx context.Context, host string) (*model.RestoreSuspicion, error)
	PutRestoreSuspected(ctx context.Context, host string, v model.RestoreSuspicion) error
	DeleteRestoreSuspected(ctx context.Context, host string) error
	PutHostInfo(ctx context.Context, host string, info model.HostInfo, agent model.AgentInfo) error
	PutHostLabels(ctx context.Context, host string, labels map[string]string) error
	PutHostEnvironment(ctx context.Context, host string, env map[string]string) error
	SetTaskStatuses(ctx context.Context, host string, id model.JobID, sts []store.StatusAt) error
	SetTaskStatusesOnce(ctx context.Context, host string, id model.JobID, sts []store.StatusAt) error
	TrimTaskHistory(ctx context.Context, host string, id model.JobID) error
	DeleteTaskStatus(ctx context.Context, host string, id model.JobID) error
	TaskStatuses(ctx context.Context, host string) (map[model.JobID]model.TaskStatus, error)
	WatchPrefix(ctx context.Context, prefix string, onReset func(kvs []store.KV, rev int64), onEvents func(evs []store.Event)) error
}

var _ Store = (*store.Store)(nil)
