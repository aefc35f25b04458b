package model

import (
	"slices"
	"strings"
	"testing"
)

func TestParseJobID(t *testing.T) {
	hash := strings.Repeat("a1", 20)
	tests := []struct {
		in                  string
		name, version, hash string
		err                 string
	}{
		{"foo:1:" + hash, "foo", "1", hash, ""},
		{"my-svc_x.y:0.5-rc_1:" + hash, "my-svc_x.y", "0.5-rc_1", hash, ""},
		{"foo:1", "", "", "", "want name:version:hash"},
		{"foo", "", "", "", "want name:version:hash"},
		{"foo:1:" + hash + ":x", "", "", "", "want name:version:hash"},
		{":1:" + hash, "", "", "", `job name "" must be non-empty`},
		{"foo::" + hash, "", "", "", `job version "" must be non-empty`},
		{"fo o:1:" + hash, "", "", "", `job name "fo o"`},
		{"foo:1/2:" + hash, "", "", "", `job version "1/2"`},
		{"foo:1:" + strings.ToUpper(hash), "", "", "", "hash must be 40 lower-case hex"},
		{"foo:1:abc", "", "", "", "hash must be 40 lower-case hex"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := ParseJobID(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Name() != tt.name || id.Version() != tt.version || id.Hash() != tt.hash || !id.IsFull() {
				t.Errorf("parts = %q %q %q full=%v", id.Name(), id.Version(), id.Hash(), id.IsFull())
			}
			if id.String() != tt.in {
				t.Errorf("String() = %q", id.String())
			}
		})
	}
}

func TestJobIDParts(t *testing.T) {
	tests := []struct {
		id                         JobID
		name, version, hash, short string
		full                       bool
	}{
		{"foo", "foo", "", "", "foo::", false},
		{"foo:1", "foo", "1", "", "foo:1:", false},
		{"foo:1:4f7125bff35d3cecaac237da3ab17efca8a765f9", "foo", "1", "4f7125bff35d3cecaac237da3ab17efca8a765f9", "foo:1:4f7125b", true},
		{NewJobID("foo", "1", ""), "foo", "1", "", "foo:1:", false},
		{"foo:1:ab:cd", "foo", "1", "ab:cd", "foo:1:ab:cd", true}, // the hash is all after the second ':'
		{"::", "", "", "", "::", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.id), func(t *testing.T) {
			if tt.id.Name() != tt.name || tt.id.Version() != tt.version || tt.id.Hash() != tt.hash {
				t.Errorf("parts = %q %q %q", tt.id.Name(), tt.id.Version(), tt.id.Hash())
			}
			if tt.id.Short() != tt.short {
				t.Errorf("Short() = %q, want %q", tt.id.Short(), tt.short)
			}
			if tt.id.IsFull() != tt.full {
				t.Errorf("IsFull() = %v", tt.id.IsFull())
			}
		})
	}
}

func TestParseNameVersion(t *testing.T) {
	tests := []struct{ in, name, version, err string }{
		{"testjob:1", "testjob", "1", ""},
		{"testjob", "", "", "want name:version"},
		{"a:b:c", "", "", "want name:version"},
		{"a b:1", "", "", `job name "a b"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, v, err := ParseNameVersion(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || n != tt.name || v != tt.version {
				t.Errorf("got %q %q %v", n, v, err)
			}
		})
	}
}

// FuzzJobIDParts checks that an id's parts are strings.SplitN(id, ":", 3)'s, whatever the id.
func FuzzJobIDParts(f *testing.F) {
	for _, s := range []string{"", "a", "a:b", "a:b:c", "a:b:c:d", ":", "::", "a::c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts := strings.SplitN(s, ":", 3)
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		id := JobID(s)
		if got := []string{id.Name(), id.Version(), id.Hash()}; !slices.Equal(got, parts) {
			t.Fatalf("parts of %q = %q, want %q", s, got, parts)
		}
	})
}
