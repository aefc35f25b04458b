package cli

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// testSpec is the real app's spec, so the tests exercise the flags users have.
func testSpec() argSpec {
	r := &runner{stdin: nil, stdout: io.Discard, stderr: io.Discard, env: func(string) string { return "" }}
	return specFromApp(r.newApp())
}

func TestNormalizeArgs(t *testing.T) {
	spec := testSpec()
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"manual create", []string{"create", "testjob:1", "ubuntu:12.04", "--env", "FOO=bar", "--", "/bin/sh", "-c", "echo --env x"},
			[]string{"create", "--env", "FOO=bar", "--", "testjob:1", "ubuntu:12.04", "--", "/bin/sh", "-c", "echo --env x"}},
		{"flags first", []string{"create", "--env", "FOO=bar", "testjob:1", "ubuntu:12.04"},
			[]string{"create", "--env", "FOO=bar", "--", "testjob:1", "ubuntu:12.04"}},
		{"global after command", []string{"jobs", "-z", "http://m:5801", "foo", "--json", "-q"},
			[]string{"-z", "http://m:5801", "--json", "jobs", "-q", "--", "foo"}},
		{"global before command", []string{"-z", "http://m", "jobs"}, []string{"-z", "http://m", "jobs"}},
		{"inline value", []string{"create", "a:1", "img", "--env=A=b", "-p=http=80"},
			[]string{"create", "--env=A=b", "-p=http=80", "--", "a:1", "img"}},
		{"short value flags", []string{"create", "a:1", "img", "-p", "http=80", "-r", "web", "-m", "k=v"},
			[]string{"create", "-p", "http=80", "-r", "web", "-m", "k=v", "--", "a:1", "img"}},
		{"verbosity cluster", []string{"jobs", "-vv"}, []string{"-vv", "jobs"}},
		{"unknown flag stays with command", []string{"jobs", "--bogus", "x"}, []string{"jobs", "--bogus", "--", "x"}},
		{"only dashdash", []string{"create", "a:1", "img", "--"}, []string{"create", "--", "a:1", "img", "--"}},
		{"no command", []string{"--version"}, []string{"--version"}},
		{"unknown command", []string{"frobnicate", "-z", "x"}, []string{"frobnicate", "-z", "x"}},
		{"help command", []string{"help", "create"}, []string{"help", "--", "create"}},
		{"completion untouched", []string{"jobs", "x", completionFlag}, []string{"jobs", "x", completionFlag}},
		{"completion of a partly typed flag lists them all", []string{"deploy", "--no", completionFlag}, []string{"deploy", "-", completionFlag}},
		{"completion after --", []string{"create", "--", completionFlag}, []string{"create", "--", completionFlag}},
		{"alias", []string{"unregister", "h1", "--yes"}, []string{"unregister", "--yes", "--", "h1"}},
		{"status flags", []string{"status", "--job", "foo", "--host", "h", "-f"}, []string{"status", "--job", "foo", "--host", "h", "-f"}},
		{"value looks like flag", []string{"create", "a:1", "img", "--env", "-x"}, []string{"create", "--env", "-x", "--", "a:1", "img"}},
		{"dash alone is positional", []string{"create", "-f", "-", "a:1"}, []string{"create", "-f", "-", "--", "a:1"}},
	}
	for _, tt := range tests {
		got := normalizeArgs(tt.in, spec)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: normalizeArgs(%q)\n got %q\nwant %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestFlagOrderDoesNotMatter runs the same create both ways through the real app, without
// a master: the job JSON printed before validation must be identical.
func TestFlagOrderDoesNotMatter(t *testing.T) {
	run := func(args ...string) string {
		var out, errb bytes.Buffer
		Run(context.Background(), args, strings.NewReader(""), &out, &errb, func(string) string { return "" })
		return strings.SplitN(out.String(), "\n", 2)[0]
	}
	a := run("create", "foo:1", "busybox", "--env", "K=a,b", "-p", "http=80", "--grace-period", "5", "-p", "x=1:2", "--", "sh", "-c", "x")
	b := run("-u", "x", "create", "--env", "K=a,b", "-p", "http=80", "--grace-period=5", "-p", "x=1:2", "foo:1", "busybox", "--", "sh", "-c", "x")
	if a == "" || a != b || !strings.Contains(a, `"K":"a,b"`) {
		t.Fatalf("outputs differ or lost the comma value:\n%s\n%s", a, b)
	}
}

func FuzzNormalizeArgs(f *testing.F) {
	spec := testSpec()
	f.Add("create\x00a:1\x00img\x00--env\x00A=b\x00--\x00sh\x00-c\x00--env")
	f.Add("jobs\x00-z\x00u\x00-vv\x00x")
	f.Add("--\x00create")
	f.Add("deploy\x00--no\x00" + completionFlag)
	f.Add("create\x00--\x00-x\x00" + completionFlag)
	f.Fuzz(func(t *testing.T, joined string) {
		in := strings.Split(joined, "\x00")
		out := normalizeArgs(in, spec)
		// A completion request is left as it is, but for a partly typed flag before the
		// cursor, which becomes "-" (and nothing changes after a "--").
		if n := len(in); in[n-1] == completionFlag {
			want := slices.Clone(in)
			if n >= 2 && len(in[n-2]) > 1 && in[n-2][0] == '-' && !slices.Contains(in, "--") {
				want[n-2] = "-"
			}
			if !slices.Equal(out, want) {
				t.Fatalf("completion request %q -> %q, want %q", in, out, want)
			}
			return
		}
		// Nothing after the user's "--" is touched, and no argument is lost or invented.
		if i := slices.Index(in, "--"); i >= 0 {
			tail := in[i+1:]
			if len(out) < len(tail) || !slices.Equal(out[len(out)-len(tail):], tail) {
				t.Fatalf("tail after -- changed: %q -> %q", in, out)
			}
		}
		count := func(s []string) map[string]int {
			m := map[string]int{}
			for _, a := range s {
				if a != "--" {
					m[a]++
				}
			}
			return m
		}
		if !reflect.DeepEqual(count(in), count(out)) {
			t.Fatalf("arguments changed: %q -> %q", in, out)
		}
	})
}
