package api

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDropMember(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"job":{"id":"a:1:x","env":{"}":"{\"job\":1"}},"goal":"START","state":"RUNNING"}`, `{"goal":"START","state":"RUNNING"}`},
		{`{"goal":"START","job":{"command":["a","]"]}}`, `{"goal":"START"}`},
		{`{"goal":"START","job":null,"state":"RUNNING"}`, `{"goal":"START","state":"RUNNING"}`},
		{` { "job" : [1, {"a":2}] , "n" : -1.5e3 } `, `{"n" : -1.5e3}`},
		{`{"job":1}`, `{}`},
		{`{"job":1,"job":2,"x":true}`, `{"x":true}`},
		{`{"jobs":1,"\"job":2}`, `{"jobs":1,"\"job":2}`}, // other names are kept as they are
		{`{"j\u006fb":1,"x":2}`, `{"x":2}`},
		{`{}`, `{}`},
		{`{"goal":"START"}`, `{"goal":"START"}`},
		{`["job"]`, `["job"]`}, // not an object: unchanged
		{`{"job":`, `{"job":`},
		{`{"job":"x"`, `{"job":"x"`},
		{`{"job" 1}`, `{"job" 1}`},
		{``, ``},
	} {
		if got := string(dropMember([]byte(c.in), "job")); got != c.want {
			t.Errorf("dropMember(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// FuzzDropMember: never panics; on a valid JSON object, the answer is a valid object with
// the same members but "job".
func FuzzDropMember(f *testing.F) {
	for _, s := range []string{`{"job":{"a":[1,"}"]},"goal":"START"}`, `{"x":"\\\"","job":null}`, `{}`, `[1]`, `{"job":`, `"s"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := dropMember(data, "job")
		var in map[string]any
		if json.Unmarshal(data, &in) != nil || in == nil {
			return
		}
		delete(in, "job")
		var out map[string]any
		if err := json.Unmarshal(got, &out); err != nil {
			t.Fatalf("dropMember(%s) = %s: %v", data, got, err)
		}
		if !reflect.DeepEqual(out, in) {
			t.Fatalf("dropMember(%s) = %s, want the members %v", data, got, in)
		}
	})
}
