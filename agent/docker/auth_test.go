package docker

import (
	"testing"
)

func TestLookupAuth(t *testing.T) {
	cfg := []byte(`{"auths": {
		"http://127.0.0.1:5000": {"auth": "dXNlcjpwYTpzcw=="},
		"registry.example.com/v2/": {"username": "u2", "password": "p2"},
		"https://index.docker.io/v1/": {"auth": "aHViOmh1YnB3"}
	}}`)
	tests := []struct {
		image, user, pass string
		found             bool
	}{
		{"127.0.0.1:5000/app:1", "user", "pa:ss", true}, // the password may hold ':'
		{"registry.example.com/team/app", "u2", "p2", true},
		{"busybox", "hub", "hubpw", true},
		{"docker.io/library/busybox:latest", "hub", "hubpw", true},
		{"127.0.0.1:5001/app", "", "", false},
		{"other.example.com/app", "", "", false},
	}
	for _, tt := range tests {
		ac, ok, err := lookupAuth(cfg, tt.image)
		if err != nil {
			t.Fatalf("%s: %v", tt.image, err)
		}
		if ok != tt.found || ac.Username != tt.user || ac.Password != tt.pass {
			t.Errorf("%s: found %v user %q pass %q; want %v %q %q", tt.image, ok, ac.Username, ac.Password, tt.found, tt.user, tt.pass)
		}
	}
	for _, bad := range []string{`{`, `{"auths": {"x.io": {"auth": "!!"}}}`, `{"auths": {"x.io": {"auth": "bm9jb2xvbg=="}}}`} {
		if _, _, err := lookupAuth([]byte(bad), "x.io/app"); err == nil {
			t.Errorf("config %s: no error", bad)
		}
	}
}

func FuzzLookupAuth(f *testing.F) {
	f.Add([]byte(`{"auths": {"x.io": {"auth": "dTpw"}}}`), "x.io/app")
	f.Add([]byte(`{}`), "busybox")
	f.Fuzz(func(t *testing.T, cfg []byte, image string) {
		ac, ok, err := lookupAuth(cfg, image)
		if err != nil && (ok || ac.Username != "") {
			t.Fatalf("error %v with a result %+v", err, ac)
		}
	})
}

func TestImageNotFound(t *testing.T) {
	for msg, want := range map[string]bool{
		"manifest unknown: manifest unknown":                                            true,
		"pull access denied for x, repository does not exist or may require":            true,
		"Get http://127.0.0.1:1/v2/: dial tcp 127.0.0.1:1: connect: connection refused": false,
		"received unexpected HTTP status: 500 Internal Server Error":                    false,
	} {
		if got := imageNotFound(errString(msg)); got != want {
			t.Errorf("imageNotFound(%q) = %v, want %v", msg, got, want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
