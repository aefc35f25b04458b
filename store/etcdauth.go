package store

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// This file holds every call of etcd's authentication API: the users and roles of
// docs/etcd-keys.md, made by `helios-master etcd-auth`. They need etcd's root user once
// authentication is on (before that, anyone may call them).

// AuthEnabled tells whether etcd authentication is on.
func (s *Store) AuthEnabled(ctx context.Context) (bool, error) {
	var on bool
	err := s.call(ctx, "auth-status", func(ctx context.Context) error {
		resp, err := s.cli.AuthStatus(ctx)
		if err == nil {
			on = resp.Enabled
		}
		return err
	})
	return on, err
}

// EnableAuth turns etcd authentication on; root must exist with the root role (SetUser
// RootUser does that). Enabling it twice is harmless.
func (s *Store) EnableAuth(ctx context.Context) error {
	return s.call(ctx, "auth-enable", func(ctx context.Context) error {
		_, err := s.cli.AuthEnable(ctx)
		return err
	})
}

// SetUser creates the user with password, or changes the password of an existing one, and
// grants it role (none when ""). For root, role is etcd's built-in root role.
func (s *Store) SetUser(ctx context.Context, name, password, role string) error {
	if password == "" {
		return fmt.Errorf("etcd user %s: empty password", name)
	}
	err := s.call(ctx, "user-add", func(ctx context.Context) error {
		_, err := s.cli.UserAdd(ctx, name, password)
		return err
	})
	if errors.Is(err, rpctypes.ErrUserAlreadyExist) {
		err = s.ChangePassword(ctx, name, password)
	}
	if err != nil {
		return err
	}
	if role == "" {
		return nil
	}
	return s.call(ctx, "user-grant-role", func(ctx context.Context) error {
		_, err := s.cli.UserGrantRole(ctx, name, role)
		return err
	})
}

// ChangePassword sets an existing user's password; the user's open sessions keep their
// tokens until these expire (etcd's --auth-token-ttl), new logins need the new password.
func (s *Store) ChangePassword(ctx context.Context, name, password string) error {
	if password == "" {
		return fmt.Errorf("etcd user %s: empty password", name)
	}
	return s.call(ctx, "user-change-password", func(ctx context.Context) error {
		_, err := s.cli.UserChangePassword(ctx, name, password)
		return err
	})
}

// ApplyRole creates the role if missing and makes its permissions exactly spec's: ranges
// it has beyond spec are revoked, so an update (a new --skydns-path, a narrower role of a
// new version) takes effect.
func (s *Store) ApplyRole(ctx context.Context, spec RoleSpec) error {
	err := s.call(ctx, "role-add", func(ctx context.Context) error {
		_, err := s.cli.RoleAdd(ctx, spec.Name)
		return err
	})
	if err != nil && !errors.Is(err, rpctypes.ErrRoleAlreadyExist) {
		return err
	}
	current, err := s.rolePerms(ctx, spec.Name)
	if err != nil {
		return err
	}
	want := map[[2]string]clientv3.PermissionType{}
	for _, g := range spec.Grants {
		key, end := g.Key, ""
		if g.Prefix {
			end = clientv3.GetPrefixRangeEnd(g.Key)
		}
		pt := clientv3.PermissionType(clientv3.PermRead)
		if g.Access == AccessReadWrite {
			pt = clientv3.PermissionType(clientv3.PermReadWrite)
		}
		want[[2]string{key, end}] = pt
	}
	for _, p := range current {
		r := [2]string{string(p.Key), string(p.RangeEnd)}
		if pt, ok := want[r]; ok && pt == clientv3.PermissionType(p.PermType) {
			delete(want, r) // already granted as wanted
			continue
		}
		if err := s.call(ctx, "role-revoke", func(ctx context.Context) error {
			_, err := s.cli.RoleRevokePermission(ctx, spec.Name, r[0], r[1])
			return err
		}); err != nil {
			return err
		}
	}
	for r, pt := range want {
		if err := s.call(ctx, "role-grant", func(ctx context.Context) error {
			_, err := s.cli.RoleGrantPermission(ctx, spec.Name, r[0], r[1], pt)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) rolePerms(ctx context.Context, role string) ([]*clientv3.Permission, error) {
	var perms []*clientv3.Permission
	err := s.call(ctx, "role-get", func(ctx context.Context) error {
		resp, err := s.cli.RoleGet(ctx, role)
		if err != nil {
			return err
		}
		for _, p := range resp.Perm {
			perms = append(perms, (*clientv3.Permission)(p))
		}
		return nil
	})
	return perms, err
}

// RemoveUser deletes the user and the role of the same name; either being absent already
// is not an error. ErrNotFound when neither existed.
func (s *Store) RemoveUser(ctx context.Context, name string) error {
	userErr := s.call(ctx, "user-delete", func(ctx context.Context) error {
		_, err := s.cli.UserDelete(ctx, name)
		return err
	})
	if userErr != nil && !errors.Is(userErr, rpctypes.ErrUserNotFound) {
		return userErr
	}
	roleErr := s.call(ctx, "role-delete", func(ctx context.Context) error {
		_, err := s.cli.RoleDelete(ctx, name)
		return err
	})
	if roleErr != nil && !errors.Is(roleErr, rpctypes.ErrRoleNotFound) {
		return roleErr
	}
	if userErr != nil && roleErr != nil {
		return fmt.Errorf("etcd user %s: %w", name, ErrNotFound)
	}
	return nil
}

// AuthUser is one etcd user with its roles' ranges, as `etcd-auth list` shows them.
type AuthUser struct {
	Name   string
	Roles  []string
	Grants []Grant // of all its roles; none for root (it may do everything)
}

// ListAuth lists every etcd user, sorted by name, with its roles and their ranges.
func (s *Store) ListAuth(ctx context.Context) ([]AuthUser, error) {
	var names []string
	err := s.call(ctx, "user-list", func(ctx context.Context) error {
		resp, err := s.cli.UserList(ctx)
		if err == nil {
			names = resp.Users
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]AuthUser, 0, len(names))
	for _, n := range names {
		u := AuthUser{Name: n}
		if err := s.call(ctx, "user-get", func(ctx context.Context) error {
			resp, err := s.cli.UserGet(ctx, n)
			if err == nil {
				u.Roles = resp.Roles
			}
			return err
		}); err != nil {
			return nil, err
		}
		for _, r := range u.Roles {
			if r == "root" {
				continue
			}
			perms, err := s.rolePerms(ctx, r)
			if err != nil {
				return nil, err
			}
			for _, p := range perms {
				g := Grant{Key: string(p.Key), Access: AccessRead}
				if len(p.RangeEnd) > 0 {
					g.Prefix = true
				}
				switch clientv3.PermissionType(p.PermType) {
				case clientv3.PermissionType(clientv3.PermReadWrite):
					g.Access = AccessReadWrite
				case clientv3.PermissionType(clientv3.PermWrite):
					g.Access = "write"
				}
				u.Grants = append(u.Grants, g)
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// AuthPasswords are the passwords InitAuth gives the users it makes.
type AuthPasswords struct {
	Root, Master, Reader string
}

// InitAuth sets etcd up for authentication as docs/etcd-keys.md describes: the roles
// helios-master and helios-reader, the users root (etcd's superuser), helios-master and
// helios-reader with those passwords, and then turns authentication on. Once auth is on
// the store must be connected as root; running it again re-applies the roles and sets the
// passwords given.
func (s *Store) InitAuth(ctx context.Context, pw AuthPasswords, skydnsPath string) error {
	for _, spec := range []RoleSpec{s.keys.MasterRole(skydnsPath), s.keys.ReaderRole(skydnsPath)} {
		if err := s.ApplyRole(ctx, spec); err != nil {
			return fmt.Errorf("role %s: %w", spec.Name, err)
		}
	}
	for _, u := range []struct{ name, password, role string }{
		{RootUser, pw.Root, "root"},
		{MasterUser, pw.Master, MasterUser},
		{ReaderUser, pw.Reader, ReaderUser},
	} {
		if err := s.SetUser(ctx, u.name, u.password, u.role); err != nil {
			return fmt.Errorf("user %s: %w", u.name, err)
		}
	}
	if err := s.EnableAuth(ctx); err != nil {
		return fmt.Errorf("enable etcd authentication: %w", err)
	}
	return nil
}

// AddAgentUser creates or updates the user and role of host's agent (AgentRole) and sets
// its password.
func (s *Store) AddAgentUser(ctx context.Context, host, password, skydnsPath string) error {
	if _, err := ParseAuthUser(AgentUser(host)); err != nil {
		return err
	}
	spec := s.keys.AgentRole(host, skydnsPath)
	if err := s.ApplyRole(ctx, spec); err != nil {
		return fmt.Errorf("role %s: %w", spec.Name, err)
	}
	if err := s.SetUser(ctx, spec.Name, password, spec.Name); err != nil {
		return fmt.Errorf("user %s: %w", spec.Name, err)
	}
	return nil
}
