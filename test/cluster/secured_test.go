package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/metadata"

	"github.com/helios-go/helios/test/harness"
)

// checkSecrets: the cluster's directory is the operator's alone, and every key, password
// and token in it is 0600.
func checkSecrets(t *testing.T, dir string) {
	t.Helper()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("%s: %v, want a directory of mode 0700", dir, err)
	}
	var secrets []string
	for _, pattern := range []string{"pki/*-key.pem", "etcd-auth/*.password", "tokens", "admin.token", "env"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		secrets = append(secrets, m...)
	}
	// The CA's, six members' and the JWT signing keys; root, master, reader and three
	// agents' passwords; the tokens file, the admin token and the env file holding it.
	if len(secrets) != 8+6+3 {
		t.Errorf("secrets in %s: %v, want 17", dir, secrets)
	}
	for _, f := range secrets {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, fi.Mode().Perm())
		}
	}
}

// refusesStrangers: a master answers a request without a token with 401 and a plain-HTTP
// request with no API at all; an etcd member refuses a client that trusts its CA but gives
// no credentials (while the read-only user, over the same connection settings, reads), a
// client in clear text, and a peer without a certificate of the cluster's CA.
func refusesStrangers(t *testing.T, netPrefix, dir string) {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(readFile(t, filepath.Join(dir, "pki", "ca.pem")))) {
		t.Fatal("the cluster's ca.pem holds no certificate")
	}
	tlsConfig := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	master := netPrefix + ".22:5801"

	resp, err := client.Get("https://" + master + "/hosts")
	if err != nil {
		t.Fatalf("GET /hosts without a token: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "UNAUTHENTICATED") {
		t.Errorf("GET /hosts without a token: %d %s, want 401 UNAUTHENTICATED", resp.StatusCode, body)
	}

	// Go's TLS server answers a plain-HTTP request with a bare 400 of its own.
	resp, err = client.Get("http://" + master + "/hosts")
	if err == nil {
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTPS server") {
			t.Errorf("plain GET /hosts: %d %s, want the TLS server's 400 (or no answer)", resp.StatusCode, body)
		}
	}

	etcd := func(endpoint string, tc *tls.Config, user, password string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cli, err := clientv3.New(clientv3.Config{
			Endpoints: []string{endpoint}, DialTimeout: 3 * time.Second, TLS: tc,
			Username: user, Password: password, Logger: zap.NewNop(), Context: ctx,
		})
		if err != nil {
			return err
		}
		defer cli.Close()
		_, err = cli.Get(ctx, "/helios/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
		return err
	}
	member := fmt.Sprintf("https://%s.11:2379", netPrefix)
	if err := etcd(member, tlsConfig, "", ""); err == nil || !strings.Contains(err.Error(), "user name is empty") {
		t.Errorf("etcd read without credentials: %v, want etcd's \"user name is empty\"", err)
	}
	readerPassword := strings.TrimSpace(readFile(t, filepath.Join(dir, "etcd-auth", "helios-reader.password")))
	if err := etcd(member, tlsConfig, "helios-reader", readerPassword); err != nil {
		t.Errorf("etcd read as helios-reader: %v", err)
	}
	if err := etcd(strings.Replace(member, "https:", "http:", 1), nil, "helios-reader", readerPassword); err == nil {
		t.Error("etcd answered a client in clear text")
	}

	// A peer must present a certificate of the cluster's CA (TLS 1.3 reports the refusal
	// on the first read, hence a request rather than a handshake alone).
	resp, err = client.Get(fmt.Sprintf("https://%s.12:2380/members", netPrefix))
	switch {
	case err == nil:
		resp.Body.Close()
		t.Errorf("etcd's peer port answered a client without a certificate: %s", resp.Status)
	case !strings.Contains(err.Error(), "tls:"):
		t.Errorf("etcd's peer port, without a client certificate: %v, want a TLS refusal", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// etcdMember is a client of member i (1-3) that trusts the cluster's CA and logs in as
// nobody: its requests carry only the token put in their context.
func etcdMember(t *testing.T, netPrefix, dir string, i int) *clientv3.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(readFile(t, filepath.Join(dir, "pki", "ca.pem")))) {
		t.Fatal("the cluster's ca.pem holds no certificate")
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: []string{fmt.Sprintf("https://%s.1%d:2379", netPrefix, i)}, DialTimeout: 3 * time.Second,
		TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Logger: zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("etcd member %d: %v", i, err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// readWithToken reads Helios's keys at cli with an etcd authentication token.
func readWithToken(cli *clientv3.Client, token string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, rpctypes.TokenFieldNameGRPC, token)
	_, err := cli.Get(ctx, "/helios/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	return err
}

// tokensCrossMembers: an etcd authentication token issued by member 2 (as helios-reader)
// is accepted by member 3. It returns the token, for tokenSurvivesRestart.
func tokensCrossMembers(t *testing.T, netPrefix, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	readerPassword := strings.TrimSpace(readFile(t, filepath.Join(dir, "etcd-auth", "helios-reader.password")))
	resp, err := etcdMember(t, netPrefix, dir, 2).Auth.Authenticate(ctx, "helios-reader", readerPassword)
	if err != nil {
		t.Fatalf("log in as helios-reader at member 2: %v", err)
	}
	if err := readWithToken(etcdMember(t, netPrefix, dir, 3), resp.Token); err != nil {
		t.Errorf("read at member 3 with member 2's token: %v, want it accepted", err)
	}
	return resp.Token
}

// tokenSurvivesRestart: the killed member 1 starts again, rejoins from its data and
// accepts the token member 2 issued before it was killed. Its members share a JWT key
// pair; with etcd's default simple tokens, which each member keeps in memory only, the
// restarted member refuses it ("invalid auth token") and a client failing over to it has
// to log in again.
func tokenSurvivesRestart(t *testing.T, netPrefix, dir, container, token string) {
	t.Helper()
	if out, err := command("", "docker", "start", container); err != nil {
		t.Fatalf("docker start %s: %v\n%s", container, err, out)
	}
	member := etcdMember(t, netPrefix, dir, 1)
	harness.Eventually(t, 90*time.Second, func() error {
		if err := readWithToken(member, token); err != nil {
			return fmt.Errorf("read at the restarted member 1 with member 2's earlier token: %w", err)
		}
		return nil
	})
}

// noTokenRefused: no agent was refused its etcd token ("invalid auth token"), neither when
// it started (its requests go to the three members in turn) nor when a member died.
// JWTs expire 5 minutes after they were issued and are then refused once before the
// client logs in again, so the check holds only while the agents are younger than that.
func noTokenRefused(t *testing.T, agents []string, started time.Time) {
	t.Helper()
	if age := time.Since(started); age > 4*time.Minute {
		t.Logf("not checking the agents' logs for refused tokens: they run for %s, their first tokens may have expired", age.Round(time.Second))
		return
	}
	for _, a := range agents {
		out, err := command("", "docker", "logs", a)
		if err != nil {
			t.Fatalf("docker logs %s: %v\n%s", a, err, out)
		}
		if n := strings.Count(out, "invalid auth token"); n > 0 {
			t.Errorf("agent %s was refused its etcd token %d times (simple tokens?):\n%s", a, n, out)
		}
	}
}
