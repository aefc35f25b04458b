package model

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// JobID is "name:version:hash". A reference typed by a user may be partial ("name" or
// "name:version"); a stored job always has all three parts.
type JobID string

var nameVersionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-zA-Z\-_.]+$`) })

// hashRE() is a full SHA-1 in lower-case hex.
var hashRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{40}$`) })

// NewJobID joins the three parts of an id.
func NewJobID(name, version, hash string) JobID {
	if hash == "" {
		return JobID(name + ":" + version)
	}
	return JobID(name + ":" + version + ":" + hash)
}

func (id JobID) part(i int) string {
	// As strings.SplitN(id, ":", 3)[i], without allocating: tables sort and print
	// thousands of ids by their parts.
	s := string(id)
	for k := 0; k < i; k++ {
		_, rest, ok := strings.Cut(s, ":")
		if !ok {
			return ""
		}
		s = rest
	}
	if i == 2 {
		return s // the hash: everything after the second ':'
	}
	head, _, _ := strings.Cut(s, ":")
	return head
}

// Name is the job's name.
func (id JobID) Name() string { return id.part(0) }

// Version is the job's version ("" when the id names only the job).
func (id JobID) Version() string { return id.part(1) }

// Hash is the job's configuration hash ("" in a partial id).
func (id JobID) Hash() string { return id.part(2) }

// IsFull tells whether the id has a name, a version and a hash.
func (id JobID) IsFull() bool { return id.Name() != "" && id.Version() != "" && id.Hash() != "" }

// Short is the id as tables show it: name:version: and the first 7 characters of the hash.
func (id JobID) Short() string {
	h := id.Hash()
	if len(h) > 7 {
		h = h[:7]
	}
	return id.Name() + ":" + id.Version() + ":" + h
}

func (id JobID) String() string { return string(id) }

// ParseJobID parses a full id "name:version:hash" and checks each part's characters.
func ParseJobID(s string) (JobID, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return "", fmt.Errorf("invalid job id %q: want name:version:hash", s)
	}
	if err := checkNameVersion(parts[0], parts[1]); err != nil {
		return "", fmt.Errorf("invalid job id %q: %w", s, err)
	}
	if !hashRE().MatchString(parts[2]) {
		return "", fmt.Errorf("invalid job id %q: hash must be 40 lower-case hex characters", s)
	}
	return JobID(s), nil
}

// ParseNameVersion parses "name:version", as `helios create` takes it.
func ParseNameVersion(s string) (name, version string, err error) {
	parts := strings.Split(s, ":")
	if len(parts) != 2 {
		return "", "", fmt.Errorf("invalid job name and version %q: want name:version", s)
	}
	if err := checkNameVersion(parts[0], parts[1]); err != nil {
		return "", "", fmt.Errorf("invalid job name and version %q: %w", s, err)
	}
	return parts[0], parts[1], nil
}

func checkNameVersion(name, version string) error {
	if !nameVersionRE().MatchString(name) {
		return fmt.Errorf("job name %q must be non-empty and only contain characters in [0-9a-zA-Z-_.]", name)
	}
	if !nameVersionRE().MatchString(version) {
		return fmt.Errorf("job version %q must be non-empty and only contain characters in [0-9a-zA-Z-_.]", version)
	}
	return nil
}
