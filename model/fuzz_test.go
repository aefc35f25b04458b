package model

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

func FuzzParseJobJSON(f *testing.F) {
	if data, err := os.ReadFile("testdata/all_options_job.json"); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		`{"image":"busybox"}`,
		`{"id":"a:1","image":"x","ports":{"p":{"internalPort":1,"externalPort":2,"protocol":"udp"}},"registration":{"s":{}}}`,
		`{"image":"x","expires":1401624000000,"env":{"A":""},"volumes":{"/d:ro":""},"healthCheck":{"type":"exec","command":["true"]}}`,
		`{"image":"x","expires":"2099-01-01T00:00:00+01:00","ramdisks":{"/tmp":"size=1m"},"resources":{"cpuset":"0-1"}}`,
		`{"ports":{"http":{"internalPort":"80"}}}`,
		`[1]`, `null`, `{"image":1e400}`,
	} {
		f.Add([]byte(s))
	}
	opts := ValidateOptions{Now: testNow, CapabilityWhitelist: []string{"NET_ADMIN"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, _, err := ParseJobJSON(data)
		if err != nil {
			return
		}
		// The fuzzer rarely guesses a correct hash: give the job its computed id, so that
		// valid jobs reach the round trip below.
		if name, version, perr := ParseNameVersion(j.ID.Name() + ":" + j.ID.Version()); perr == nil {
			if withID, herr := WithComputedID(name, version, j); herr == nil {
				j = withID
			}
		}
		if msgs := ValidateJob(&j, opts); len(msgs) > 0 {
			return
		}
		h1, err := ConfigHash(&j)
		if err != nil {
			t.Fatalf("valid job does not hash: %v", err)
		}
		j.Normalize()
		raw, err := json.Marshal(&j)
		if err != nil {
			t.Fatalf("valid job does not encode: %v", err)
		}
		back, unknown, err := ParseJobJSON(raw)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", raw, err)
		}
		if len(unknown) > 0 {
			t.Fatalf("re-parse of %s: unknown fields %q", raw, unknown)
		}
		h2, err := ConfigHash(&back)
		if err != nil {
			t.Fatal(err)
		}
		if h1 != h2 {
			t.Fatalf("hash changed over marshal/parse: %s -> %s\n%s", h1, h2, raw)
		}
		if msgs := ValidateJob(&back, opts); len(msgs) > 0 {
			t.Fatalf("re-parsed job no longer valid: %q", msgs)
		}
	})
}

func FuzzParseHostSelector(f *testing.F) {
	for _, s := range []string{"role=web", "role != web", "role in (a, b)", "role notin(a,b)", " a\tin\t( b ) ", "a in ()", "a=b=c", "x\u00a0in (y)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := ParseHostSelector(s)
		if err != nil {
			return
		}
		if sel.Label == "" || len(sel.Operand) == 0 {
			t.Fatalf("%q parsed to %+v", s, sel)
		}
		back, err := ParseHostSelector(sel.String())
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", s, sel.String(), err)
		}
		if !reflect.DeepEqual(back, sel) {
			t.Fatalf("%q -> %+v -> %q -> %+v", s, sel, sel.String(), back)
		}
		// Matching a host that has the label with one of the operands must follow the operator.
		in := sel.Matches(map[string]string{sel.Label: sel.Operand[0]})
		if want := sel.Operator == OpEquals || sel.Operator == OpIn; in != want {
			t.Fatalf("%+v on its own operand: %v", sel, in)
		}
		if sel.Matches(map[string]string{}) {
			t.Fatalf("%+v matched a host without the label", sel)
		}
	})
}

func FuzzParseJobID(f *testing.F) {
	for _, s := range []string{"foo:1:" + strings.Repeat("a", 40), "foo:1", "a:b:c:d", "::", "foo:1:" + strings.Repeat("A", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseJobID(s)
		if err != nil {
			return
		}
		if !id.IsFull() || string(id) != s {
			t.Fatalf("%q parsed to %q (full=%v)", s, id, id.IsFull())
		}
		if got := NewJobID(id.Name(), id.Version(), id.Hash()); got != id {
			t.Fatalf("parts of %q rejoin to %q", id, got)
		}
		if n, v, err := ParseNameVersion(id.Name() + ":" + id.Version()); err != nil || n != id.Name() || v != id.Version() {
			t.Fatalf("name:version of %q: %q %q %v", id, n, v, err)
		}
	})
}
