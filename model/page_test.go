package model

import (
	"strings"
	"testing"
)

func TestParsePageLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  string
	}{
		{"", 0, ""},
		{"1", 1, ""},
		{"1000", 1000, ""},
		{"0", 0, "limit 0 is out of range: want 1 to 1000"},
		{"-5", 0, "limit -5 is out of range"},
		{"1001", 0, "limit 1001 is out of range"},
		{"ten", 0, `limit "ten" is not a whole number`},
		{"1.5", 0, "not a whole number"},
		{"99999999999999999999", 0, "not a whole number"},
	} {
		got, err := ParsePageLimit(tc.in)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("ParsePageLimit(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParsePageLimit(%q) error %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestParseContinueToken(t *testing.T) {
	for _, tc := range []struct {
		list, token string
		want        string
		err         string
	}{
		{PageJobs, ContinueToken(PageJobs, "web:1:abc"), "web:1:abc", ""},
		{PageHosts, ContinueToken(PageHosts, "host1"), "host1", ""},
		{PageHosts, ContinueToken(PageJobs, "web:1:abc"), "", "belongs to the list of jobs, not of hosts"},
		{PageJobs, "!!!", "", `continue token "!!!" is not valid`},
		{PageJobs, "", "", "is not valid"},
		{PageJobs, ContinueToken(PageJobs, ""), "", "it names no jobs"},
		{PageJobs, ContinueToken(PageJobs, "a/b"), "", "it names no jobs"},
		{PageJobs, "am9icw", "", "is not valid"}, // "jobs" without a name
		{PageJobs, "am9icy8", "", "it names no jobs"},
	} {
		got, err := ParseContinueToken(tc.list, tc.token)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("ParseContinueToken(%s, %q) = %q, %v; want %q", tc.list, tc.token, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseContinueToken(%s, %q) error %v, want %q", tc.list, tc.token, err, tc.err)
		}
	}
}

func FuzzParseContinueToken(f *testing.F) {
	for _, s := range []string{ContinueToken(PageJobs, "a:1:b"), ContinueToken(PageHosts, "h"), "", "=", "am9icy8", "////"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		last, err := ParseContinueToken(PageJobs, token)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "continue token ") {
				t.Fatalf("error %q does not name the token", err)
			}
			return
		}
		if last == "" || strings.Contains(last, "/") {
			t.Fatalf("accepted %q naming %q", token, last)
		}
		// What a token names comes back from the token made of it.
		if again, err := ParseContinueToken(PageJobs, ContinueToken(PageJobs, last)); err != nil || again != last {
			t.Fatalf("round trip of %q: %q, %v", last, again, err)
		}
	})
}

func FuzzParsePageLimit(f *testing.F) {
	for _, s := range []string{"", "1", "1000", "0", "-1", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParsePageLimit(s)
		if err == nil && s != "" && (n < 1 || n > MaxPageLimit) {
			t.Fatalf("ParsePageLimit(%q) = %d", s, n)
		}
	})
}
