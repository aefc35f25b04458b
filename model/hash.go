package model

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// ConfigHash is the SHA-1 (hex) of the job's canonical configuration: its JSON with keys
// sorted and empty fields dropped, leaving out the id and what the master adds (created,
// creatingUser). Two jobs that would run the same container hash the same on any master,
// whatever order their JSON keys came in, whether empty fields were spelled out, and whether
// a port's protocol was left to its tcp default (so Normalize does not change the hash).
func ConfigHash(j *Job) (string, error) {
	c := *j
	c.ID, c.Created, c.CreatingUser = "", nil, ""
	if c.Expires != nil {
		utc := c.Expires.UTC()
		c.Expires = &utc
	}
	if len(c.Ports) > 0 {
		// A copy: hashing must not touch the caller's map.
		ports := make(map[string]PortMapping, len(c.Ports))
		for name, p := range c.Ports {
			p.Protocol = p.Proto()
			ports[name] = p
		}
		c.Ports = ports
	}
	raw, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("encode job for hashing: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return "", fmt.Errorf("decode job for hashing: %w", err)
	}
	canonical, err := json.Marshal(canonicalize(reflect.TypeFor[Job](), tree))
	if err != nil {
		return "", fmt.Errorf("encode canonical job: %w", err)
	}
	sum := sha1.Sum(canonical)
	return hex.EncodeToString(sum[:]), nil
}

// ComputeJobHash is the hash part of a job id: sha1hex("name:version:configHash").
func ComputeJobHash(name, version string, j *Job) (string, error) {
	cfg, err := ConfigHash(j)
	if err != nil {
		return "", err
	}
	sum := sha1.Sum([]byte(name + ":" + version + ":" + cfg))
	return hex.EncodeToString(sum[:]), nil
}

// WithComputedID returns the job with its id set to name:version:<computed hash>.
func WithComputedID(name, version string, j Job) (Job, error) {
	h, err := ComputeJobHash(name, version, &j)
	if err != nil {
		return Job{}, err
	}
	j.ID = NewJobID(name, version, h)
	return j, nil
}

var timeType = reflect.TypeFor[time.Time]()

// canonicalize walks the decoded JSON v alongside the Go type t it was encoded from. Struct
// fields that are null, "", [] or {} are dropped, so that `"env": {}` and a missing env hash
// alike. Map entries are never dropped, only their values canonicalized: `"env": {"A": ""}`
// sets A in the container, `"volumes": {"/data": ""}` makes a data volume, and
// `"registration": {"web": {}}` registers a service, so each differs from its absence.
// Zero numbers and false stay: they can mean something (externalPort 0, migrate false).
func canonicalize(t reflect.Type, v any) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case v == nil:
		return nil
	case t == timeType:
		return v
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return v
		}
		out := make(map[string]any, len(obj))
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := jsonName(f)
			if name == "" {
				continue
			}
			if c := canonicalize(f.Type, obj[name]); !isEmptyJSON(c) {
				out[name] = c
			}
		}
		return out
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return v
		}
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			c := canonicalize(t.Elem(), e)
			if c == nil {
				c = emptyJSON(t.Elem())
			}
			out[k] = c
		}
		return out
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			return v
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			c := canonicalize(t.Elem(), e)
			if c == nil {
				c = emptyJSON(t.Elem()) // keep positions: ["a", ""] differs from ["a"]
			}
			out[i] = c
		}
		return out
	}
	return v
}

// isEmptyJSON tells whether a decoded JSON value carries nothing.
func isEmptyJSON(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// emptyJSON is the empty JSON value of a Go type, standing in for a null map entry or
// array element.
func emptyJSON(t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return ""
	case reflect.Struct, reflect.Map:
		if t == timeType {
			return ""
		}
		return map[string]any{}
	case reflect.Slice, reflect.Array:
		return []any{}
	case reflect.Bool:
		return false
	}
	return json.Number("0")
}

// jsonName is a struct field's JSON key, "" for fields JSON skips.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return f.Name
	}
	return name
}
