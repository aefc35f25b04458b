package model

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Paged lists: GET /jobs and GET /hosts answer one page at a time when asked with
// ?limit=N. The token of the next page comes back in HeaderContinue and goes back as
// ?continue=; a page without the header is the last.
const (
	HeaderContinue = "Helios-Continue"
	// MaxPageLimit bounds ?limit=, so that one page of 10 KB jobs stays around 10 MB.
	MaxPageLimit = 1000
)

// Lists a continue token can belong to: a token of one list is refused by another.
const (
	PageJobs  = "jobs"
	PageHosts = "hosts"
)

// ParsePageLimit reads ?limit=: "" means no paging (0); otherwise a whole number from 1
// to MaxPageLimit.
func ParsePageLimit(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("limit %q is not a whole number: want 1 to %d", s, MaxPageLimit)
	}
	if n < 1 || n > MaxPageLimit {
		return 0, fmt.Errorf("limit %d is out of range: want 1 to %d", n, MaxPageLimit)
	}
	return n, nil
}

// ContinueToken says where a page of list ended: the last name it examined. The token is
// opaque to clients (URL-safe base64), so its content may change between versions.
func ContinueToken(list, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + "/" + last))
}

// ParseContinueToken returns the name a token of list resumes after. A token of another
// list, one that does not decode, or one naming no valid name is an error naming the
// problem.
func ParseContinueToken(list, token string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", fmt.Errorf("continue token %q is not valid: not a token from a Helios-Continue header", token)
	}
	got, last, ok := strings.Cut(string(raw), "/")
	switch {
	case !ok || !utf8.ValidString(string(raw)):
		return "", fmt.Errorf("continue token %q is not valid: not a token from a Helios-Continue header", token)
	case got != list:
		return "", fmt.Errorf("continue token %q belongs to the list of %s, not of %s", token, got, list)
	case last == "" || strings.Contains(last, "/"):
		return "", fmt.Errorf("continue token %q is not valid: it names no %s", token, list)
	}
	return last, nil
}
