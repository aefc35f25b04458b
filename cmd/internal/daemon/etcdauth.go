package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	ucli "github.com/urfave/cli/v2"
)

// EtcdAuthCommand is `helios-master etcd-auth`: it makes the etcd users and roles of
// docs/etcd-keys.md (no hand-typed etcdctl), keeping each password in a 0600 file named
// after its user in --dir.
func EtcdAuthCommand() *ucli.Command {
	conn := func(extra ...ucli.Flag) []ucli.Flag {
		return append([]ucli.Flag{
			&ucli.StringSliceFlag{Name: "etcd", Value: ucli.NewStringSlice("http://127.0.0.1:2379"), Usage: "etcd client endpoints (repeatable)"},
			&ucli.StringFlag{Name: "etcd-prefix", Value: "/helios", Usage: "root of Helios's keys in etcd"},
			&ucli.StringFlag{Name: "etcd-cacert", Usage: "CA bundle (PEM) verifying the etcd servers' certificates; turns on TLS"},
			&ucli.StringFlag{Name: "etcd-cert", Usage: "client certificate (PEM) presented to etcd (with --etcd-key)"},
			&ucli.StringFlag{Name: "etcd-key", Usage: "key (PEM) of --etcd-cert"},
			&ucli.DurationFlag{Name: "etcd-timeout", Value: 10 * time.Second, Usage: "deadline of each etcd request"},
			&ucli.StringFlag{Name: "dir", Value: HomeDir("etcd-auth"), Usage: "`DIR` of the password files, one <user>.password each (made 0700)"},
			&ucli.StringFlag{Name: "root-password-file", Usage: "`FILE` of etcd's root password (default <dir>/root.password)"},
		}, extra...)
	}
	skydns := &ucli.StringFlag{Name: "skydns-path", Value: store.DefaultSkyDNSPath, Usage: "etcd `PATH` of the SkyDNS records agents read and masters write"}
	passwordFile := &ucli.StringFlag{Name: "password-file", Usage: "`FILE` of the user's password (default <dir>/<user>.password); read when it exists, else written"}
	return &ucli.Command{
		Name:  "etcd-auth",
		Usage: "create and rotate the etcd users and roles of Helios (etcd authentication)",
		Subcommands: []*ucli.Command{
			{
				Name:   "init",
				Usage:  "create root, the helios-master and helios-reader roles and users, and turn etcd authentication on",
				Flags:  conn(skydns),
				Action: func(c *ucli.Context) error { return etcdAuthInit(c) },
			},
			{
				Name:      "add-agent",
				Usage:     "create or update the user and role of one host's agent",
				ArgsUsage: "HOST",
				Flags:     conn(skydns, passwordFile),
				Action:    func(c *ucli.Context) error { return etcdAuthAddAgent(c) },
			},
			{
				Name:      "rotate",
				Usage:     "give a user a new password, written to its password file",
				ArgsUsage: "USER",
				Flags:     conn(passwordFile),
				Action:    func(c *ucli.Context) error { return etcdAuthRotate(c) },
			},
			{
				Name:      "remove-agent",
				Usage:     "delete the user and role of one host's agent, and its password file",
				ArgsUsage: "HOST",
				Flags:     conn(passwordFile),
				Action:    func(c *ucli.Context) error { return etcdAuthRemoveAgent(c) },
			},
			{
				Name:   "list",
				Usage:  "list etcd's users with their roles' key ranges",
				Flags:  conn(),
				Action: func(c *ucli.Context) error { return etcdAuthList(c) },
			},
		},
	}
}

// oneArg is the single argument of a subcommand.
func oneArg(c *ucli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", fmt.Errorf("want one %s argument, got %d", what, c.NArg())
	}
	return c.Args().First(), nil
}

// ParseAgentHostArg checks the HOST argument of add-agent and remove-agent.
func ParseAgentHostArg(host string) (string, error) {
	if err := model.ValidateHostName(host); err != nil {
		return "", err
	}
	if _, err := store.ParseAuthUser(store.AgentUser(host)); err != nil {
		return "", err
	}
	return host, nil
}

func userFile(c *ucli.Context, user string) string {
	if f := c.String("password-file"); f != "" {
		return f
	}
	return filepath.Join(c.String("dir"), user+".password")
}

// authStore connects as root: with the root password file when it exists (always the
// case once auth is on), else without credentials (init, before auth is on).
func authStore(ctx context.Context, c *ucli.Context) (*store.Store, error) {
	rootFile := c.String("root-password-file")
	if rootFile == "" {
		rootFile = filepath.Join(c.String("dir"), store.RootUser+".password")
	}
	cc := store.ConnectConfig{
		Endpoints:   c.StringSlice("etcd"),
		DialTimeout: 5 * time.Second,
		TLS:         store.TLSFiles{CAFile: c.String("etcd-cacert"), CertFile: c.String("etcd-cert"), KeyFile: c.String("etcd-key")},
	}
	switch pw, err := ReadPasswordFile(rootFile); {
	case err == nil:
		cc.Username, cc.Password = store.RootUser, pw
	case !errors.Is(err, os.ErrNotExist) || c.Command.Name != "init":
		return nil, fmt.Errorf("etcd's root password: %w", err)
	}
	return store.Open(ctx, cc, store.Config{Prefix: c.String("etcd-prefix"), RequestTimeout: c.Duration("etcd-timeout")})
}

func skydnsPath(c *ucli.Context) (string, error) {
	p, err := store.ParseSkyDNSPath(c.String("skydns-path"))
	if err != nil {
		return "", fmt.Errorf("--skydns-path: %w", err)
	}
	return p, nil
}

func etcdAuthInit(c *ucli.Context) error {
	sky, err := skydnsPath(c)
	if err != nil {
		return err
	}
	dir := c.String("dir")
	files := map[string]string{}
	pws := map[string]string{}
	for _, u := range []string{store.RootUser, store.MasterUser, store.ReaderUser} {
		files[u] = filepath.Join(dir, u+".password")
		if u == store.RootUser && c.String("root-password-file") != "" {
			files[u] = c.String("root-password-file")
		}
		if pws[u], _, err = passwordFrom(files[u]); err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
	}
	st, err := authStore(c.Context, c)
	if err != nil {
		return err
	}
	defer st.Close() //nolint:errcheck // nothing to do about it at exit
	err = st.InitAuth(c.Context, store.AuthPasswords{Root: pws[store.RootUser], Master: pws[store.MasterUser], Reader: pws[store.ReaderUser]}, sky)
	if errors.Is(err, store.ErrPermissionDenied) {
		return fmt.Errorf("%w (is etcd authentication on already, with another root password than %s?)", err, files[store.RootUser])
	}
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "etcd authentication is on.\n")
	for _, u := range []string{store.RootUser, store.MasterUser, store.ReaderUser} {
		fmt.Fprintf(w, "  %-14s password in %s\n", u, files[u])
	}
	fmt.Fprintf(w, "Start masters with --etcd-username %s --etcd-password-file %s,\n", store.MasterUser, files[store.MasterUser])
	fmt.Fprintf(w, "and give each agent host its user: helios-master etcd-auth add-agent HOST\n")
	return nil
}

func etcdAuthAddAgent(c *ucli.Context) error {
	arg, err := oneArg(c, "HOST")
	if err != nil {
		return err
	}
	host, err := ParseAgentHostArg(arg)
	if err != nil {
		return err
	}
	sky, err := skydnsPath(c)
	if err != nil {
		return err
	}
	user := store.AgentUser(host)
	file := userFile(c, user)
	pw, _, err := passwordFrom(file)
	if err != nil {
		return err
	}
	st, err := authStore(c.Context, c)
	if err != nil {
		return err
	}
	defer st.Close() //nolint:errcheck // nothing to do about it at exit
	if err := st.AddAgentUser(c.Context, host, pw, sky); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "etcd user %s: password in %s\nStart the agent of %s with --name %s --etcd-username %s --etcd-password-file FILE (a copy of that file).\n", user, file, host, host, user)
	return nil
}

func etcdAuthRotate(c *ucli.Context) error {
	user, err := oneArg(c, "USER")
	if err != nil {
		return err
	}
	if _, err := store.ParseAuthUser(user); err != nil {
		return err
	}
	file := userFile(c, user)
	if user == store.RootUser && c.String("root-password-file") != "" && c.String("password-file") == "" {
		file = c.String("root-password-file")
	}
	st, err := authStore(c.Context, c)
	if err != nil {
		return err
	}
	defer st.Close() //nolint:errcheck // nothing to do about it at exit
	// The new password goes to a side file first: if etcd refuses the change, the old
	// file still holds the password in force; if the rename fails, the side file has it.
	pw := newPassword()
	side := file + ".new"
	if err := writePasswordFile(side, pw); err != nil {
		return err
	}
	if err := st.ChangePassword(c.Context, user, pw); err != nil {
		_ = os.Remove(side)
		return err
	}
	if err := os.Rename(side, file); err != nil {
		return fmt.Errorf("etcd has the new password of %s, in %s, but it could not replace %s: %w", user, side, file, err)
	}
	fmt.Fprintf(c.App.Writer, "etcd user %s: new password in %s; restart its processes with it (open sessions keep working until their token expires)\n", user, file)
	return nil
}

func etcdAuthRemoveAgent(c *ucli.Context) error {
	arg, err := oneArg(c, "HOST")
	if err != nil {
		return err
	}
	host, err := ParseAgentHostArg(arg)
	if err != nil {
		return err
	}
	st, err := authStore(c.Context, c)
	if err != nil {
		return err
	}
	defer st.Close() //nolint:errcheck // nothing to do about it at exit
	user := store.AgentUser(host)
	if err := st.RemoveUser(c.Context, user); err != nil {
		return err
	}
	if err := os.Remove(userFile(c, user)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	fmt.Fprintf(c.App.Writer, "etcd user and role %s removed\n", user)
	return nil
}

func etcdAuthList(c *ucli.Context) error {
	st, err := authStore(c.Context, c)
	if err != nil {
		return err
	}
	defer st.Close() //nolint:errcheck // nothing to do about it at exit
	on, err := st.AuthEnabled(c.Context)
	if err != nil {
		return err
	}
	users, err := st.ListAuth(c.Context)
	if err != nil {
		return err
	}
	printAuthUsers(c.App.Writer, on, users)
	return nil
}

func printAuthUsers(w io.Writer, on bool, users []store.AuthUser) {
	state := "off"
	if on {
		state = "on"
	}
	fmt.Fprintf(w, "etcd authentication: %s\n", state)
	for _, u := range users {
		fmt.Fprintf(w, "%s (roles: %s)\n", u.Name, strings.Join(u.Roles, ", "))
		for _, g := range u.Grants {
			key := g.Key
			if g.Prefix {
				key += "*"
			}
			fmt.Fprintf(w, "  %-9s %s\n", g.Access, key)
		}
	}
}
