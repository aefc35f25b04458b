package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzUnmarshalStrict checks the body decoder every endpoint uses: it never panics, and
// what it accepts is exactly one valid JSON value.
func FuzzUnmarshalStrict(f *testing.F) {
	for _, s := range []string{`["a:1","b:2"]`, `[]`, `["h1"] x`, `[`, `{"goal":"STOP"}`, `"str"`, ` [ ] `, `[] []`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		err := unmarshalStrict(data, &v)
		if err == nil && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if err != nil && json.Valid(data) {
			t.Fatalf("refused valid JSON %q: %v", data, err)
		}
	})
}

// FuzzParseBoolParam checks ?omitJobs= and the like: never panics, and an error names the
// parameter.
func FuzzParseBoolParam(f *testing.F) {
	for _, s := range []string{"", "true", "false", "1", "0", "yes", "T"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := parseBoolParam("omitJobs", s); err != nil && !strings.Contains(err.Error(), "omitJobs=") {
			t.Fatalf("parseBoolParam(%q): error %q does not name the parameter", s, err)
		}
	})
}
