package cli

import (
	"strings"
	"testing"
)

func TestParsePageSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  string
	}{
		{"", defaultPageSize, ""},
		{" 2 ", 2, ""},
		{"1000", 1000, ""},
		{"0", 0, `invalid HELIOS_CLI_PAGE_SIZE="0": want a whole number from 1 to 1000`},
		{"1001", 0, "from 1 to 1000"},
		{"-3", 0, "from 1 to 1000"},
		{"lots", 0, `"lots"`},
	} {
		got, err := parsePageSize(tc.in)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("parsePageSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("parsePageSize(%q) error %v, want %q", tc.in, err, tc.err)
		}
	}
}

func FuzzParsePageSize(f *testing.F) {
	for _, s := range []string{"", "1", "1000", "0", "x", " 7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parsePageSize(s)
		if err == nil && (n < 1 || n > 1000) {
			t.Fatalf("parsePageSize(%q) = %d", s, n)
		}
		if err != nil && !strings.Contains(err.Error(), envPageSize) {
			t.Fatalf("error %q does not name %s", err, envPageSize)
		}
	})
}
