package model

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on names a user gives.
const (
	MaxHostNameLength  = 253 // DNS: a whole name
	MaxHostLabelLength = 63  // DNS: one label
	MaxJobIDLength     = 255 // name:version:hash, so a key and a container label stay sane
)

// ValidateHostName checks a host name against DNS rules (RFC 1123): at most 253
// characters, labels of 1 to 63 letters, digits and hyphens separated by dots, no label
// starting or ending with a hyphen. One trailing dot (an absolute name) is allowed. Names
// written by earlier versions that break these rules can still be listed and deleted: only
// registration checks them.
func ValidateHostName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("invalid host name: empty")
	case !utf8.ValidString(name):
		return fmt.Errorf("invalid host name %q: not valid UTF-8", name)
	case len(name) > MaxHostNameLength:
		return fmt.Errorf("invalid host name: %d characters, at most %d", len(name), MaxHostNameLength)
	}
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	for _, l := range labels {
		if err := checkHostLabel(l); err != nil {
			return fmt.Errorf("invalid host name %q: %w", clip(name), err)
		}
	}
	return nil
}

func checkHostLabel(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("empty label (two dots in a row, or a leading dot)")
	case len(l) > MaxHostLabelLength:
		return fmt.Errorf("label %q has %d characters, at most %d", clip(l), len(l), MaxHostLabelLength)
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Errorf("label %q starts or ends with '-'", l)
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("label %q has %q: only letters, digits and '-' are allowed", clip(l), rune(c))
		}
	}
	return nil
}

// clip shortens what an error message quotes.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
