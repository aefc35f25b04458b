package model

import (
	// go-digest knows sha384 and sha512 only when crypto/sha512 is linked in, as it is in
	// every helios binary (TLS); link it here so the library is compared as they run it.
	_ "crypto/sha512"
	"strings"
	"testing"

	"github.com/distribution/reference"
)

// imageRefCases are checked against the library too: CheckImageRef must accept exactly what
// reference.ParseAnyReference accepts.
var imageRefCases = []struct {
	in string
	ok bool
}{
	{"busybox", true},
	{"busybox:latest", true},
	{"library/busybox:1.36", true},
	{"docker.io/library/busybox", true},
	{"index.docker.io/busybox", true},
	{"localhost/app", true},
	{"localhost:5000/team/app:v1.2_3-rc", true},
	{"registry.example.com:443/a/b/c", true},
	{"Registry.Example.com/app", true},
	{"Upper/app", true},
	{"[::1]:5000/app", true},
	{"[fe80::1]/app", true},
	{"a_b.com/c", true},
	{"a__b", true},
	{"a---b.c_d", true},
	{"app@sha256:" + strings.Repeat("a", 64), true},
	{"app:tag@sha512:" + strings.Repeat("0", 128), true},
	{strings.Repeat("f", 64), true},
	{"sha256:" + strings.Repeat("f", 64), true},
	{"sha384:" + strings.Repeat("1", 96), true},
	{"x@sha384:" + strings.Repeat("1", 96), true},
	{"x@sha384:" + strings.Repeat("1", 95), false},
	{"sha256:abc", true}, // a familiar name "sha256" with tag "abc"
	{"example.com", true},
	{"localhost:5000", true}, // image "localhost", tag "5000"
	{"ubuntu:" + strings.Repeat("a", 128), true},
	{strings.Repeat("a", 247), true},

	{"", false},
	{"Ubuntu", false},
	{"ubuntu:bad tag", false},
	{"ubuntu:" + strings.Repeat("a", 129), false},
	{"ubuntu:.tag", false},
	{"ubuntu:-tag", false},
	{"ubuntu@sha256:abc", false},
	{"ubuntu@sha256:" + strings.Repeat("A", 64), false},
	{"ubuntu@md5:" + strings.Repeat("a", 32), false},
	{"ubuntu@", false},
	{"a___b", false},
	{"a._b", false},
	{"-a", false},
	{"a-", false},
	{"a//b", false},
	{"/a", false},
	{"a/", false},
	{"example.com/Upper", false},
	{"example.com:/a", false},
	{"-bad.com/a", false},
	{"[]/a", false},
	{"[::g]/a", false},
	{"[::1]", false},
	{strings.Repeat("A", 64), false},
	{strings.Repeat("a", 248), false}, // "library/" + 248 > 255
	{"example.com/" + strings.Repeat("a", 256), false},
	{"a:b:c", false},
	{"a@b@c", false},
	{"héllo", false},
}

func TestCheckImageRef(t *testing.T) {
	for _, tc := range imageRefCases {
		err := CheckImageRef(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("CheckImageRef(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if _, lerr := reference.ParseAnyReference(tc.in); (lerr == nil) != tc.ok {
			t.Errorf("the table is wrong about %q: reference.ParseAnyReference = %v", tc.in, lerr)
		}
	}
}

// FuzzCheckImageRef holds CheckImageRef equal to the library it replaces.
func FuzzCheckImageRef(f *testing.F) {
	for _, tc := range imageRefCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, lerr := reference.ParseAnyReference(s)
		if err := CheckImageRef(s); (err == nil) != (lerr == nil) {
			t.Fatalf("CheckImageRef(%q) = %v, reference.ParseAnyReference = %v", s, err, lerr)
		}
	})
}
