package docker_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/helios-go/helios/agent"
	"github.com/helios-go/helios/agent/docker"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/test/testimage"
)

// testRegistry is an in-memory registry on 127.0.0.1 (which Docker pulls from over plain
// HTTP) holding the test image as <host>/helios-test-<run>:latest.
type testRegistry struct {
	host  string // 127.0.0.1:port
	image string
}

// newTestRegistry starts a registry; wrap, if set, guards the pulls (the push goes around it).
func newTestRegistry(t *testing.T, wrap func(http.Handler) http.Handler) *testRegistry {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	push := httptest.NewServer(reg)
	defer push.Close()
	var h http.Handler = reg
	if wrap != nil {
		h = wrap(reg)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	r := &testRegistry{host: strings.TrimPrefix(srv.URL, "http://")}
	r.image = r.host + "/helios-test-" + runID + ":latest"

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tarb, err := testimage.LayerTar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tarb)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Entrypoint = []string{"/prog"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(strings.TrimPrefix(push.URL, "http://")+"/helios-test-"+runID+":latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		t.Fatalf("push test image: %v", err)
	}
	return r
}

// removeImageAtEnd removes a pulled image when the test ends (after its containers).
func removeImageAtEnd(t *testing.T, image string) {
	d, err := docker.New("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer d.Close()
		if err := d.RemoveImage(context.Background(), image); err != nil {
			t.Errorf("remove pulled image %s: %v", image, err)
		}
	})
}

func TestPullFromRegistryThenRun(t *testing.T) {
	needDocker(t)
	r := newTestRegistry(t, nil)
	removeImageAtEnd(t, r.image)
	h := newHarness(t, nil)
	h.start()
	id := h.job("pulled", func(j *model.Job) { j.Image = r.image })
	st := h.waitState(id, model.StateRunning, nil)
	if got := history(t, h, id); got != "PULLING_IMAGE,CREATING,STARTING,RUNNING" {
		t.Errorf("history = %s", got)
	}
	if st.Throttled != model.ThrottleNo {
		t.Errorf("throttled %s", st.Throttled)
	}
	if ok, err := h.d.HasImage(context.Background(), r.image); err != nil || !ok {
		t.Errorf("image not present after the pull: %v %v", ok, err)
	}
}

func TestPullFailures(t *testing.T) {
	needDocker(t)
	r := newTestRegistry(t, nil)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	defer broken.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close() // nothing listens there now

	h := newHarness(t, func(c *agent.Config) {
		c.ImageMissingRetry = time.Second
		c.ImagePullRetry = time.Second
	})
	h.start()
	tests := []struct {
		name, image string
		throttle    model.ThrottleState
	}{
		{"not in the registry", r.host + "/nope-" + runID + ":latest", model.ThrottleImageMissing},
		{"registry answers 500", strings.TrimPrefix(broken.URL, "http://") + "/helios-test-" + runID + ":latest", model.ThrottleImagePullFailed},
		{"registry refuses connections", refused + "/helios-test-" + runID + ":latest", model.ThrottleImagePullFailed},
	}
	ids := map[string]model.JobID{}
	for i, tt := range tests {
		ids[tt.name] = h.job(fmt.Sprintf("pullfail%d", i), func(j *model.Job) { j.Image = tt.image })
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := ids[tt.name]
			st := h.waitState(id, model.StateFailed, nil)
			if st.Throttled != tt.throttle || st.ContainerID != "" {
				t.Errorf("FAILED status throttled %s container %q error %q", st.Throttled, st.ContainerID, st.ContainerError)
			}
			// Retried after the retry delay: another pull attempt appears in the history.
			h.eventually("retried", 20*time.Second, func() bool {
				return strings.HasPrefix(history(t, h, id), "PULLING_IMAGE,FAILED,PULLING_IMAGE,FAILED")
			})
		})
	}
}

func TestPullWithCredentialsFromDockerConfig(t *testing.T) {
	needDocker(t)
	const user, pass = "helios", "s3cret"
	r := newTestRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if u, p, ok := req.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, req)
		})
	})
	removeImageAtEnd(t, r.image)
	cfgPath := filepath.Join(t.TempDir(), "config.json")
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`{"auths": {"http://%s": {"auth": %q}}}`, r.host, auth)), 0o600); err != nil {
		t.Fatal(err)
	}
	// Without the credentials the registry refuses the pull.
	noCreds := filepath.Join(t.TempDir(), "none.json")
	if err := os.WriteFile(noCreds, []byte(`{"auths": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	anon, err := docker.New("", docker.WithDockerConfig(noCreds))
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if err := anon.Pull(context.Background(), r.image); err == nil {
		t.Fatal("pull without credentials succeeded: the registry does not check them")
	}
	d, err := docker.New("", docker.WithDockerConfig(cfgPath))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h := newHarness(t, func(c *agent.Config) { c.Runtime = d })
	h.start()
	id := h.job("authpull", func(j *model.Job) { j.Image = r.image })
	h.waitState(id, model.StateRunning, nil)
	if got := history(t, h, id); got != "PULLING_IMAGE,CREATING,STARTING,RUNNING" {
		t.Errorf("history = %s", got)
	}
}
