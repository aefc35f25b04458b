package model

import (
	"strings"
	"testing"
)

func TestValidateHostName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"web1", true},
		{"b-up.example.com", true},
		{"192.168.33.10.", true}, // the manual's absolute name
		{"Host-A.Example", true},
		{strings.Repeat("a", 63) + ".example", true},
		{strings.Repeat("a.", 126) + "a", true}, // 253 characters
		{"", false},
		{".", false},
		{"web..1", false},
		{".web", false},
		{"-web", false},
		{"web-", false},
		{"web_1", false},
		{"web 1", false},
		{"web*", false},
		{"web\n", false},
		{"we\x00b", false},
		{"web/1", false},
		{"\xff\xfe", false},
		{strings.Repeat("a", 64), false},
		{strings.Repeat("a.", 127) + "a", false}, // 255 characters
		{strings.Repeat("x", 400_000), false},
	} {
		err := ValidateHostName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateHostName(%q) = %v, want ok=%v", clip(tc.name), err, tc.ok)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("error for %q is %d bytes: a long name must not be echoed whole", clip(tc.name), len(err.Error()))
		}
	}
}

func FuzzValidateHostName(f *testing.F) {
	for _, s := range []string{"web1", "a.b.c", "-x", "x..y", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateHostName(name) != nil {
			return
		}
		if len(name) > MaxHostNameLength || strings.ContainsAny(name, "/ \x00\n*_") || strings.Contains(name, "..") {
			t.Fatalf("accepted %q", name)
		}
	})
}

func TestJobIDLengthLimit(t *testing.T) {
	long := Job{ID: JobID(strings.Repeat("n", 250) + ":1:" + strings.Repeat("0", 40)), Image: "busybox"}
	errs := ValidateJob(&long, ValidateOptions{})
	if len(errs) == 0 || !strings.Contains(errs[0], "at most 255") {
		t.Fatalf("a %d-character id: %v, want refused naming the limit", len(long.ID), errs)
	}
}
