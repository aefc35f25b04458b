package model

import (
	"errors"
	"fmt"
	"strings"
)

// CheckImageRef reports whether s is an image Docker can run: a reference
// ([domain[:port]/]path[:tag][@digest], the path lowercase) or an image id (64 hex digits, or a
// sha256/sha384/sha512 digest). It accepts exactly what
// github.com/distribution/reference's ParseAnyReference accepts (a fuzz target holds the two
// equal), without that package: it compiles a dozen regular expressions at init, which every
// CLI command paid for at start-up, and a hand-written scan needs no init at all.
func CheckImageRef(s string) error {
	if s == "" {
		return errors.New("empty reference")
	}
	if isLowerHex(s, 64) || checkDigest(s) == nil {
		return nil // an image id
	}
	return checkNamedRef(normalizeImageName(s))
}

// refNameMax is the longest a repository path may be (after "library/" is added to a
// familiar name), as the registry's reference grammar has it.
const refNameMax = 255

// normalizeImageName spells a name as Docker does before parsing it: a first path element
// that is not a domain (no "." or ":", not "localhost", lowercase) means Docker Hub, and a
// Hub name of one element is an official image under "library/". The domain test decides
// which part is the repository path, whose length is limited.
func normalizeImageName(s string) string {
	first, rest, ok := strings.Cut(s, "/")
	if !ok {
		return "docker.io/library/" + s
	}
	domain, remote := "docker.io", s
	switch {
	case first == "localhost", strings.ContainsAny(first, ".:"), strings.ToLower(first) != first:
		domain, remote = first, rest
	}
	if first == "index.docker.io" {
		domain = "docker.io"
	}
	if domain == "docker.io" && !strings.Contains(remote, "/") {
		remote = "library/" + remote
	}
	return domain + "/" + remote
}

// checkNamedRef checks name[:tag][@digest].
func checkNamedRef(s string) error {
	if before, dgst, ok := strings.Cut(s, "@"); ok {
		if err := checkDigest(dgst); err != nil {
			return fmt.Errorf("digest %q: %w", dgst, err)
		}
		s = before
	}
	// A tag follows the last ":" when that comes after the last "/": a name holds a ":" only
	// in its domain's port, which a "/" follows.
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
		if tag := s[i+1:]; !isTag(tag) {
			return fmt.Errorf("tag %q: must be 1 to 128 of [A-Za-z0-9_.-], not starting with . or -", tag)
		}
		s = s[:i]
	}
	path := s
	if first, rest, ok := strings.Cut(s, "/"); ok && isDomain(first) && isRepoPath(rest) {
		path = rest
	} else if !isRepoPath(s) {
		return fmt.Errorf("name %q: must be [domain[:port]/]path with lowercase path components of [a-z0-9] separated by '.', '_', '__', '-' or '/'", s)
	}
	if len(path) > refNameMax {
		return fmt.Errorf("repository name must not be more than %d characters", refNameMax)
	}
	return nil
}

// checkDigest checks algorithm:hex for the algorithms Docker knows, the hex in lowercase and
// of the algorithm's length.
func checkDigest(d string) error {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || alg == "" || hex == "" {
		return errors.New("not algorithm:hex")
	}
	var n int
	switch alg {
	case "sha256":
		n = 64
	case "sha384":
		n = 96
	case "sha512":
		n = 128
	default:
		return fmt.Errorf("unsupported digest algorithm %q", alg)
	}
	if !isLowerHex(hex, n) {
		return fmt.Errorf("a %s digest is %d lowercase hex digits", alg, n)
	}
	return nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isTag: a word character, then up to 127 of word characters, '.' and '-'.
func isTag(s string) bool {
	if len(s) == 0 || len(s) > 128 || !isWordByte(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isWordByte(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isAlnumLower(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isAlnumLower(c) || c >= 'A' && c <= 'Z' }

// isDomain: a host (dot-separated labels of letters, digits and inner '-', or a bracketed
// IPv6 address of hex digits and ':') with an optional :port.
func isDomain(s string) bool {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 2 {
			return false
		}
		for i := 1; i < end; i++ {
			if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':') {
				return false
			}
		}
		port := s[end+1:]
		return port == "" || isPort(port)
	}
	host := s
	if i := strings.IndexByte(s, ':'); i >= 0 {
		host = s[:i]
		if !isPort(s[i:]) {
			return false
		}
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || !isAlnum(label[0]) || !isAlnum(label[len(label)-1]) {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

// isPort: ":" and one or more digits.
func isPort(s string) bool {
	if len(s) < 2 || s[0] != ':' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isRepoPath: components separated by '/', each runs of [a-z0-9] joined by one separator:
// '.', '_', "__", or one or more '-'.
func isRepoPath(s string) bool {
	for _, comp := range strings.Split(s, "/") {
		if !isPathComponent(comp) {
			return false
		}
	}
	return true
}

func isPathComponent(s string) bool {
	i := 0
	for {
		start := i
		for i < len(s) && isAlnumLower(s[i]) {
			i++
		}
		if i == start {
			return false // empty, or a separator where a run of [a-z0-9] belongs
		}
		if i == len(s) {
			return true
		}
		switch {
		case s[i] == '.':
			i++
		case s[i] == '_':
			i++
			if i < len(s) && s[i] == '_' {
				i++
			}
		case s[i] == '-':
			for i < len(s) && s[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}
