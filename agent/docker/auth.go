package docker

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/registry"
)

// dockerHubKeys are the names Docker Hub's credentials are kept under in config.json.
var dockerHubKeys = []string{"https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"}

// defaultDockerConfig is where the docker CLI keeps its config: $DOCKER_CONFIG/config.json,
// else ~/.docker/config.json.
func defaultDockerConfig() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker", "config.json")
}

// registryAuth returns the X-Registry-Auth value for pulling image with the credentials
// the Docker config file at path (default location if "") has for the image's registry;
// "" when it has none. A missing file means no credentials. It is read at every pull, so
// credentials written by `docker login` later are used without restarting the agent.
func registryAuth(path, image string) (string, error) {
	if path == "" {
		path = defaultDockerConfig()
	}
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("docker config: %w", err)
	}
	ac, ok, err := lookupAuth(b, image)
	if err != nil || !ok {
		return "", err
	}
	raw, err := json.Marshal(ac)
	if err != nil {
		return "", fmt.Errorf("docker config: %w", err)
	}
	return base64.URLEncoding.EncodeToString(raw), nil
}

// lookupAuth finds the credentials for image's registry in a Docker config file's "auths"
// ({"auths": {"registry:port": {"auth": base64("user:pass")}}}; keys may carry a scheme or
// a path, as `docker login` writes them).
func lookupAuth(config []byte, image string) (registry.AuthConfig, bool, error) {
	var cf struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			Username      string `json:"username"`
			Password      string `json:"password"`
			IdentityToken string `json:"identitytoken"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(config, &cf); err != nil {
		return registry.AuthConfig{}, false, fmt.Errorf("docker config: %w", err)
	}
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return registry.AuthConfig{}, false, fmt.Errorf("image %q: %w", image, err)
	}
	domain := reference.Domain(ref)
	want := []string{domain}
	if domain == "docker.io" {
		want = dockerHubKeys
	}
	for key, e := range cf.Auths {
		host := key
		if i := strings.Index(host, "://"); i >= 0 {
			host = host[i+3:]
		}
		host, _, _ = strings.Cut(host, "/")
		for _, w := range want {
			if host != w && key != w {
				continue
			}
			ac := registry.AuthConfig{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken, ServerAddress: domain}
			if e.Auth != "" {
				dec, err := base64.StdEncoding.DecodeString(e.Auth)
				if err != nil {
					return registry.AuthConfig{}, false, fmt.Errorf("docker config: auth of %s: %w", key, err)
				}
				user, pass, ok := strings.Cut(string(dec), ":")
				if !ok {
					return registry.AuthConfig{}, false, fmt.Errorf("docker config: auth of %s is not user:password", key)
				}
				ac.Username, ac.Password = user, pass
			}
			return ac, true, nil
		}
	}
	return registry.AuthConfig{}, false, nil
}
