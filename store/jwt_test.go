package store_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/metadata"

	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/store/storetest"
	"github.com/helios-go/helios/test/harness"
)

var jwtPasswords = store.AuthPasswords{Root: "root-pw", Master: "master-pw", Reader: "reader-pw"}

// writeJWTKeys writes key as a private key PEM file (SEC 1 for EC, PKCS #8 otherwise)
// and its public key as PKIX, the files helios-cluster-certs --jwt makes.
func writeJWTKeys(t *testing.T, dir, name string, key crypto.Signer) store.JWTKeys {
	t.Helper()
	var block *pem.Block
	if ec, ok := key.(*ecdsa.PrivateKey); ok {
		der, err := x509.MarshalECPrivateKey(ec)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	} else {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	keys := store.JWTKeys{PrivateKey: filepath.Join(dir, name+"-key.pem"), PublicKey: filepath.Join(dir, name+".pem")}
	writeFile(t, keys.PrivateKey, pem.EncodeToMemory(block))
	writeFile(t, keys.PublicKey, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	return keys
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func newP256(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// startMembers starts every member of cfgs at once (none is ready before a quorum is)
// and closes them when the test ends.
func startMembers(t *testing.T, cfgs []store.EmbedConfig) []*store.Embedded {
	t.Helper()
	members := make([]*store.Embedded, len(cfgs))
	errs := make([]error, len(cfgs))
	done := make(chan struct{})
	for i := range cfgs {
		go func() {
			defer func() { done <- struct{}{} }()
			members[i], errs[i] = store.StartEmbedded(context.Background(), cfgs[i])
		}()
	}
	for range cfgs {
		<-done
	}
	for i, m := range members {
		if m != nil {
			t.Cleanup(m.Close)
		}
		if errs[i] != nil {
			t.Fatalf("member %s: %v", cfgs[i].Name, errs[i])
		}
	}
	return members
}

// rawClient is an etcd client of one member that logs in as nobody: its requests carry
// only the token the test puts in their context.
func rawClient(t *testing.T, m *store.Embedded) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: m.Endpoints(), DialTimeout: storetest.DialTimeout, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// withToken is ctx with an etcd auth token, as clientv3 sends it.
func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, rpctypes.TokenFieldNameGRPC, token)
}

// A token member 0 issued is accepted by the others when the members share a JWT key
// pair, also by a member that restarted since: a client failing over keeps its session.
// With etcd's default simple tokens, which each member keeps in memory, the restarted
// member refuses the token (while member 0 takes it): that is what the JWT keys are for.
func TestJWTTokenOfOneMemberServesAnother(t *testing.T) {
	keys := writeJWTKeys(t, t.TempDir(), "jwt", newP256(t))
	for _, tc := range []struct {
		name string
		jwt  store.JWTKeys
	}{
		{"jwt", keys},
		{"simple", store.JWTKeys{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isJWT := tc.jwt.Enabled()
			cfgs := harness.EtcdMembers(t, "", 3)
			for i := range cfgs {
				cfgs[i].JWT = tc.jwt
			}
			members := startMembers(t, cfgs)
			ctx := testCtx(t)
			admin := storetest.Open(t, members[0], store.Config{})
			mustNil(t, "init auth", admin.InitAuth(ctx, jwtPasswords, ""))

			issuer := rawClient(t, members[0])
			resp, err := issuer.Auth.Authenticate(ctx, store.RootUser, jwtPasswords.Root)
			mustNil(t, "log in as root at member 0", err)
			if got := strings.Count(resp.Token, ".") == 2 && strings.HasPrefix(resp.Token, "ey"); got != isJWT {
				t.Errorf("token %q: JWT = %v, want %v", resp.Token, got, isJWT)
			}
			_, err = issuer.Get(withToken(ctx, resp.Token), "/probe")
			mustNil(t, "get at member 0 with its own token", err)

			// Without a token member 2 refuses: authentication is on.
			other := rawClient(t, members[2])
			_, err = other.Get(ctx, "/probe")
			if !errors.Is(err, rpctypes.ErrUserEmpty) {
				t.Fatalf("get at member 2 without a token: %v, want %v", err, rpctypes.ErrUserEmpty)
			}
			_, err = other.Get(withToken(ctx, resp.Token), "/probe")
			t.Logf("get at member 2 with member 0's token: %v", err)
			if isJWT {
				mustNil(t, "get at member 2 with member 0's token", err)
			}

			// Member 1 restarts on its data: what it keeps in memory only is gone.
			members[1].Close()
			restarted, err := store.StartEmbedded(ctx, cfgs[1])
			mustNil(t, "restart member 1", err)
			t.Cleanup(restarted.Close)
			_, err = rawClient(t, restarted).Get(withToken(ctx, resp.Token), "/probe")
			switch {
			case isJWT && err != nil:
				t.Errorf("get at the restarted member 1 with member 0's JWT: %v, want it accepted", err)
			case !isJWT && !errors.Is(err, rpctypes.ErrInvalidAuthToken):
				t.Errorf("get at the restarted member 1 with member 0's simple token: %v, want %v", err, rpctypes.ErrInvalidAuthToken)
			}
		})
	}
}

// JWTs expire (etcd's TTL, 5 minutes by default), unlike a simple token in use: a store
// logged in with a password carries on past the expiry. Its requests log in again, a
// watch started after the expiry sees changes, and a lease kept alive over two of its
// lifetimes after the expiry is never lost.
func TestJWTExpiryIsInvisibleToAStore(t *testing.T) {
	cfg := harness.EtcdMembers(t, "jwt", 1)[0]
	cfg.JWT = writeJWTKeys(t, t.TempDir(), "jwt", newP256(t))
	cfg.JWT.TTL = time.Second
	m := startMembers(t, []store.EmbedConfig{cfg})[0]
	ctx := testCtx(t)
	mustNil(t, "init auth", storetest.Open(t, m, store.Config{}).InitAuth(ctx, jwtPasswords, ""))
	st := storetest.OpenAs(t, m, store.RootUser, jwtPasswords.Root, store.Config{RequestTimeout: 5 * time.Second})
	mustNil(t, "register a host before the expiry", st.RegisterHost(ctx, "before", "id-before"))

	var attached atomic.Int32
	leaseCtx, stopLease := context.WithCancel(ctx)
	leaseDone := make(chan error, 1)
	go func() {
		leaseDone <- st.KeepLeased(leaseCtx, 3*time.Second, nil, func(context.Context, store.LeaseID) error {
			attached.Add(1)
			return nil
		})
	}()
	t.Cleanup(func() { stopLease(); <-leaseDone })
	eventually(t, 10*time.Second, "lease attached", func() bool { return attached.Load() == 1 })

	// A watch started before the expiry shares its gRPC stream (and the stream's token)
	// with the one started after it.
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	early := make(chan struct{}, 1)
	go func() {
		_ = st.WatchPrefix(wctx, "/jwt-early/", func([]store.KV, int64) {
			select {
			case early <- struct{}{}:
			default:
			}
		}, func([]store.Event) {})
	}()
	select {
	case <-early:
	case <-ctx.Done():
		t.Fatal("the watch started before the expiry never listed")
	}

	raw := rawClient(t, m)
	resp, err := raw.Auth.Authenticate(ctx, store.RootUser, jwtPasswords.Root)
	mustNil(t, "log in", err)
	eventually(t, 20*time.Second, "the token expires", func() bool {
		_, err := raw.Get(withToken(ctx, resp.Token), "/probe")
		return errors.Is(err, rpctypes.ErrInvalidAuthToken)
	})
	expired := time.Now()

	mustNil(t, "register a host after the expiry", st.RegisterHost(ctx, "after", "id-after"))
	if id, err := st.HostID(ctx, "before"); err != nil || id != "id-before" {
		t.Fatalf("host id after the expiry: %q, %v; want id-before", id, err)
	}

	saw := make(chan string, 16)
	watchDone := make(chan error, 1)
	go func() {
		watchDone <- st.WatchPrefix(wctx, "/jwt-watch/", func([]store.KV, int64) {}, func(evs []store.Event) {
			for _, e := range evs {
				saw <- e.Key
			}
		})
	}()
	// Written until the watch reports it: the watch may start after the first put.
	put := time.NewTicker(200 * time.Millisecond)
	defer put.Stop()
	deadline := time.After(20 * time.Second)
	for seen := false; !seen; {
		select {
		case <-put.C:
			_, err := raw.Put(withToken(ctx, loginToken(t, raw)), "/jwt-watch/k", "v")
			mustNil(t, "put under the watched prefix", err)
		case k := <-saw:
			seen = k == "/jwt-watch/k"
		case err := <-watchDone:
			t.Fatalf("watch ended: %v", err)
		case <-deadline:
			t.Fatal("a watch started after the token expired saw no change in 20s")
		}
	}

	// The lease is kept alive with a token that expires every second; it must outlive two
	// of its own lifetimes (3 s) after the first expiry without being lost and taken again.
	eventually(t, 20*time.Second, "two lease lifetimes past the expiry", func() bool {
		return time.Since(expired) > 6*time.Second || attached.Load() != 1
	})
	if n := attached.Load(); n != 1 {
		t.Errorf("lease attached %d times, want 1: it was lost when the token expired", n)
	}
}

func loginToken(t *testing.T, cli *clientv3.Client) string {
	t.Helper()
	resp, err := cli.Auth.Authenticate(context.Background(), store.RootUser, jwtPasswords.Root)
	mustNil(t, "log in", err)
	return resp.Token
}

// Key files that cannot work are refused before etcd starts, naming the file: half a
// pair, a key of another pair, a file that is not a key, a path etcd's option syntax cannot
// carry. A key of each supported type starts.
func TestJWTKeysAreCheckedBeforeEtcdStarts(t *testing.T) {
	dir := t.TempDir()
	p256 := writeJWTKeys(t, dir, "p256", newP256(t))
	other := writeJWTKeys(t, dir, "other", newP256(t))
	comma := filepath.Join(t.TempDir(), "a,b")
	mustNil(t, "mkdir", os.Mkdir(comma, 0o700))
	commaKeys := writeJWTKeys(t, comma, "jwt", newP256(t))
	p224key, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	mustNil(t, "P-224 key", err)
	p224 := writeJWTKeys(t, dir, "p224", p224key)
	for _, tc := range []struct {
		name string
		keys store.JWTKeys
		want string
	}{
		{"private key alone", store.JWTKeys{PrivateKey: p256.PrivateKey}, "private key " + p256.PrivateKey + " given without its public key"},
		{"public key alone", store.JWTKeys{PublicKey: p256.PublicKey}, "public key " + p256.PublicKey + " given without its private key"},
		{"two pairs", store.JWTKeys{PrivateKey: p256.PrivateKey, PublicKey: other.PublicKey}, "is not the one of private key"},
		{"keys swapped", store.JWTKeys{PrivateKey: p256.PublicKey, PublicKey: p256.PrivateKey}, `PEM block "PUBLIC KEY": want a private key`},
		{"missing file", store.JWTKeys{PrivateKey: filepath.Join(dir, "nope.pem"), PublicKey: p256.PublicKey}, "no such file"},
		{"comma in path", commaKeys, "etcd cannot take a path with ',' or '='"},
		{"negative ttl", store.JWTKeys{PrivateKey: p256.PrivateKey, PublicKey: p256.PublicKey, TTL: -time.Second}, "TTL -1s is negative"},
		{"P-224", p224, "EC curve P-224: want P-256, P-384 or P-521"},
	} {
		cfg := harness.EtcdMembers(t, "jwt", 1)[0]
		cfg.JWT = tc.keys
		_, err := store.StartEmbedded(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
		if _, statErr := os.Stat(cfg.DataDir); statErr == nil {
			t.Errorf("%s: etcd started (made %s)", tc.name, cfg.DataDir)
		}
	}

	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	mustNil(t, "Ed25519 key", err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	mustNil(t, "RSA key", err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	mustNil(t, "P-384 key", err)
	for name, key := range map[string]crypto.Signer{"ed25519": edKey, "rsa": rsaKey, "p384": p384} {
		cfg := harness.EtcdMembers(t, name, 1)[0]
		cfg.JWT = writeJWTKeys(t, dir, name, key)
		m, err := store.StartEmbedded(context.Background(), cfg)
		if err != nil {
			t.Errorf("%s key: %v", name, err)
			continue
		}
		m.Close()
	}
}
