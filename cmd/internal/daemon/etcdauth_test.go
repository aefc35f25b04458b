package daemon

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	ucli "github.com/urfave/cli/v2"
)

func TestParseAgentHostArg(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"web1", true},
		{"web1.example.com", true},
		{"", false},
		{"a/b", false},
		{"a b", false},
		{"*", false},
		{strings.Repeat("a", 64), false},
		{"\xff", false},
	} {
		if _, err := ParseAgentHostArg(tc.in); (err == nil) != tc.ok {
			t.Errorf("ParseAgentHostArg(%q) = %v, want ok %v", tc.in, err, tc.ok)
		}
	}
}

func FuzzParseAgentHostArg(f *testing.F) {
	for _, s := range []string{"web1", "a.b", "", "a/b", "-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		host, err := ParseAgentHostArg(in)
		if err != nil {
			return
		}
		if host != in || model.ValidateHostName(host) != nil {
			t.Fatalf("%q accepted as %q", in, host)
		}
		if got, err := store.ParseAuthUser(store.AgentUser(host)); err != nil || got != host {
			t.Fatalf("user of %q parses to %q, %v", host, got, err)
		}
	})
}

// runAuth runs `helios-master etcd-auth args...` and returns its output.
func runAuth(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	app := &ucli.App{Name: "helios-master", Writer: &out, Commands: []*ucli.Command{EtcdAuthCommand()}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := app.RunContext(ctx, append([]string{"helios-master", "etcd-auth"}, args...))
	return out.String(), err
}

// The subcommands turn auth on, give an agent its user, rotate its password and remove
// it, keeping every password in a 0600 file that a daemon's --etcd-password-file reads.
func TestEtcdAuthCommands(t *testing.T) {
	_, e := storetest.NewEtcd(t)
	dir := filepath.Join(t.TempDir(), "auth")
	conn := []string{"--etcd", e.Endpoints()[0], "--dir", dir}
	if _, err := runAuth(t, append([]string{"add-agent"}, append(conn, "web1")...)...); err == nil {
		t.Fatal("add-agent before init (no root password file) succeeded")
	}
	out, err := runAuth(t, append([]string{"init"}, conn...)...)
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if _, err := runAuth(t, append([]string{"init"}, conn...)...); err != nil {
		t.Fatalf("init again: %v", err)
	}
	for _, bad := range []string{"bad host", "a/b", ""} {
		if _, err := runAuth(t, append(append([]string{"add-agent"}, conn...), bad)...); err == nil {
			t.Errorf("add-agent %q succeeded", bad)
		}
	}
	if out, err = runAuth(t, append(append([]string{"add-agent"}, conn...), "web1")...); err != nil {
		t.Fatalf("add-agent: %v\n%s", err, out)
	}
	agentFile := filepath.Join(dir, "helios-agent-web1.password")
	open := func(user, file string) (*store.Store, error) {
		pw, err := ReadPasswordFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return store.Open(context.Background(), store.ConnectConfig{Endpoints: e.Endpoints(), Username: user, Password: pw, DialTimeout: 5 * time.Second}, store.Config{})
	}
	ag, err := open("helios-agent-web1", agentFile)
	if err != nil {
		t.Fatalf("agent logs in with its file: %v", err)
	}
	defer ag.Close() //nolint:errcheck // test
	ctx := context.Background()
	if err := ag.RegisterHost(ctx, "web1", "id1"); err != nil {
		t.Errorf("agent registers its host: %v", err)
	}
	if err := ag.RegisterHost(ctx, "web2", "id2"); err == nil {
		t.Error("agent registered another host")
	}

	out, err = runAuth(t, append([]string{"list"}, conn...)...)
	if err != nil || !strings.Contains(out, "etcd authentication: on") || !strings.Contains(out, "helios-agent-web1") ||
		!strings.Contains(out, "readwrite /helios/status/hosts/web1/*") {
		t.Errorf("list: %v\n%s", err, out)
	}

	old, _ := ReadPasswordFile(agentFile)
	if out, err = runAuth(t, append(append([]string{"rotate"}, conn...), "helios-agent-web1")...); err != nil {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	if now, _ := ReadPasswordFile(agentFile); now == old {
		t.Error("rotate kept the password")
	}
	if _, err := open("helios-agent-web1", agentFile); err != nil {
		t.Errorf("agent logs in with its rotated file: %v", err)
	}
	if _, err := runAuth(t, append(append([]string{"rotate"}, conn...), "alice")...); err == nil {
		t.Error("rotate of a user Helios does not manage succeeded")
	}

	if out, err = runAuth(t, append(append([]string{"remove-agent"}, conn...), "web1")...); err != nil {
		t.Fatalf("remove-agent: %v\n%s", err, out)
	}
	if _, err := os.Stat(agentFile); !os.IsNotExist(err) {
		t.Errorf("password file after remove-agent: %v", err)
	}
	if _, err := runAuth(t, append(append([]string{"remove-agent"}, conn...), "web1")...); err == nil {
		t.Error("removing the agent twice succeeded")
	}
	m, err := open(store.MasterUser, filepath.Join(dir, "helios-master.password"))
	if err != nil {
		t.Fatalf("master logs in: %v", err)
	}
	defer m.Close() //nolint:errcheck // test
	if _, err := m.ListHosts(ctx); err != nil {
		t.Errorf("master lists hosts: %v", err)
	}
}
