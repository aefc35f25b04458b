package store

import (
	"context"

	"github.com/helios-go/helios/model"
)

// The agent's report of a suspected etcd restore (agent/restore.go): it lives under the
// host's status prefix, which the agent's etcd role may write, so that the masters, the
// CLI and the dashboard see which hosts hold back their removals.

// PutRestoreSuspected records that host's agent holds back removals after a suspected
// restore of etcd.
func (s *Store) PutRestoreSuspected(ctx context.Context, host string, v model.RestoreSuspicion) error {
	return s.putJSON(ctx, "put-restore-suspected", host, s.keys.RestoreSuspected(host), v)
}

// DeleteRestoreSuspected removes host's report: the restore was accepted, or the agent
// does not suspect one.
func (s *Store) DeleteRestoreSuspected(ctx context.Context, host string) error {
	if err := ValidName("host", host); err != nil {
		return err
	}
	return s.call(ctx, "delete-restore-suspected", func(ctx context.Context) error {
		_, err := s.cli.Delete(ctx, s.keys.RestoreSuspected(host))
		return err
	})
}

// RestoreSuspected reads host's report; nil when there is none. A value that does not
// decode counts as present with zero fields, so that the agent replaces it.
func (s *Store) RestoreSuspected(ctx context.Context, host string) (*model.RestoreSuspicion, error) {
	if err := ValidName("host", host); err != nil {
		return nil, err
	}
	resp, err := s.get(ctx, "restore-suspected", s.keys.RestoreSuspected(host))
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	var v model.RestoreSuspicion
	if err := decode(s.keys.RestoreSuspected(host), resp.Kvs[0].Value, &v); err != nil {
		s.skipBad(err)
		return &model.RestoreSuspicion{}, nil
	}
	return &v, nil
}
