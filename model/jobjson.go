package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ParseJobJSON decodes a job file, as `helios create -f` and POST /jobs read it. Unknown
// fields are not an error (files written for newer or older versions must load); their
// dotted paths come back, sorted, so the caller can warn about likely typos. Field names
// match exactly, unlike encoding/json's case-insensitive matching, so "Image" is reported
// as unknown instead of silently setting image. A malformed file gives an error naming the
// line and column, or the field and the JSON type it wanted and got.
func ParseJobJSON(data []byte) (Job, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return Job{}, nil, syntaxError(data, err)
	}
	if off := skipSpace(data, dec.InputOffset()); off < int64(len(data)) {
		line, col := lineCol(data, off+1)
		return Job{}, nil, fmt.Errorf("invalid job JSON at line %d, column %d: unexpected data after the job object", line, col)
	}
	if _, ok := tree.(map[string]any); !ok {
		return Job{}, nil, fmt.Errorf("invalid job JSON: want an object, got %s", jsonKind(tree))
	}
	var unknown []string
	clean, err := conform(reflect.TypeFor[Job](), tree, "", &unknown)
	if err != nil {
		return Job{}, nil, fmt.Errorf("invalid job JSON: %w", err)
	}
	raw, err := json.Marshal(clean)
	if err != nil {
		return Job{}, nil, fmt.Errorf("re-encode job: %w", err)
	}
	var j Job
	if err := json.Unmarshal(raw, &j); err != nil {
		// conform checked every type, so this is only a safety net.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Job{}, nil, fmt.Errorf("invalid job JSON: field %q: want %s, got %s", te.Field, wantKind(te.Type), te.Value)
		}
		return Job{}, nil, fmt.Errorf("invalid job JSON: %w", err)
	}
	sort.Strings(unknown)
	return j, unknown, nil
}

// UnmarshalJSON reads a job as encoding/json would, except that expires may also be epoch
// milliseconds (the original's Jackson wrote dates that way) or another ISO-8601 form.
// encoding/json has checked data before it calls this, and checks it again here: to read
// many jobs, UnmarshalJobs reads them in one pass.
func (j *Job) UnmarshalJSON(data []byte) error {
	w := jobWire{plainJob: plainJob(*j)}
	err := json.Unmarshal(data, &w)
	*j = w.job(j.Expires, err == nil)
	return err
}

// UnmarshalJobs adds the jobs of a JSON object of jobs by id ({id: Job}, as GET /jobs
// answers) to into, exactly as json.Unmarshal would through Job.UnmarshalJSON, in one pass
// over data instead of two.
func UnmarshalJobs(data []byte, into map[JobID]Job) error {
	var wire map[JobID]*jobWire
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	for id, w := range wire {
		if w == nil {
			into[id] = Job{} // null, as json.Unmarshal reads it into a map
			continue
		}
		into[id] = w.job(nil, true)
	}
	return nil
}

// plainJob is Job without its methods, so that decoding it does not recurse.
type plainJob Job

// jobWire is a Job as it is decoded: expires goes to a type that reads all its forms.
// Being a struct without an UnmarshalJSON of its own, it is decoded in the same pass as
// what holds it.
type jobWire struct {
	plainJob
	Expires expiresJSON `json:"expires"` // shadows plainJob's
}

// job is the decoded job; expires as it was before (prev) unless the input set it and
// decoding went well (ok).
func (w *jobWire) job(prev *time.Time, ok bool) Job {
	j := Job(w.plainJob)
	j.Expires = prev
	if ok && w.Expires.set {
		j.Expires = w.Expires.t
	}
	return j
}

// expiresJSON reads an expires value: null, an ISO-8601 string or epoch milliseconds.
type expiresJSON struct {
	set bool // the input had the field
	t   *time.Time
}

func (e *expiresJSON) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("field \"expires\": %w", err)
	}
	t, err := parseExpires(v)
	if err != nil {
		return fmt.Errorf("field \"expires\": %w", err)
	}
	e.set, e.t = true, t
	return nil
}

// expiresLayouts are the ISO-8601 forms accepted for expires; a time without a zone is UTC.
var expiresLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700", // Jackson's +0000
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseExpires reads a decoded JSON expires value: null, an ISO-8601 string or epoch
// milliseconds. Years outside 0000-9999 are refused because they cannot be written back
// as RFC 3339.
func parseExpires(v any) (*time.Time, error) {
	var t time.Time
	switch e := v.(type) {
	case nil:
		return nil, nil
	case string:
		var err error
		for _, layout := range expiresLayouts {
			if t, err = time.Parse(layout, e); err == nil {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("want an ISO-8601 date-time such as 2014-06-01T12:00:00Z, got %q", e)
		}
	case json.Number:
		ms, err := strconv.ParseInt(string(e), 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(string(e), 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
				return nil, fmt.Errorf("want whole epoch milliseconds, got %s", e)
			}
			ms = int64(f)
		}
		if ms < minExpiresMillis || ms > maxExpiresMillis {
			return nil, fmt.Errorf("epoch milliseconds %s out of range (years 0000-9999)", e)
		}
		t = time.UnixMilli(ms).UTC()
	default:
		return nil, fmt.Errorf("want an ISO-8601 date-time string or epoch milliseconds, got %s", jsonKind(v))
	}
	if u := t.UTC(); t.Year() < 0 || t.Year() > 9999 || u.Year() < 0 || u.Year() > 9999 {
		return nil, fmt.Errorf("date-time %s out of range (years 0000-9999)", t)
	}
	return &t, nil
}

var (
	minExpiresMillis = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxExpiresMillis = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli()
)

// conform checks a decoded JSON value against the Go type it will be decoded into and
// returns it with unknown object keys removed (their paths appended to unknown). Checking
// here, rather than reading encoding/json's errors, gives every error the full path
// including map keys, and a plain-words type.
func conform(t reflect.Type, v any, path string, unknown *[]string) (any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return nil, nil // null leaves the field unset, as encoding/json does
	}
	if t == timeType {
		exp, err := parseExpires(v)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", path, err)
		}
		if exp == nil {
			return nil, nil
		}
		return exp.Format(time.RFC3339Nano), nil
	}
	mismatch := func() error {
		return fmt.Errorf("field %q: want %s, got %s", path, wantKind(t), jsonKind(v))
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, mismatch()
		}
		fields := make(map[string]reflect.Type, t.NumField())
		for i := 0; i < t.NumField(); i++ {
			if name := jsonName(t.Field(i)); name != "" {
				fields[name] = t.Field(i).Type
			}
		}
		out := make(map[string]any, len(obj))
		for _, k := range sortedMapKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				*unknown = append(*unknown, joinPath(path, k))
				continue
			}
			c, err := conform(ft, obj[k], joinPath(path, k), unknown)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, mismatch()
		}
		out := make(map[string]any, len(obj))
		for _, k := range sortedMapKeys(obj) {
			c, err := conform(t.Elem(), obj[k], joinPath(path, k), unknown)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return nil, mismatch()
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			c, err := conform(t.Elem(), e, fmt.Sprintf("%s[%d]", path, i), unknown)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case reflect.String:
		if _, ok := v.(string); !ok {
			return nil, mismatch()
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return nil, mismatch()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return nil, mismatch()
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return nil, fmt.Errorf("field %q: want an integer that fits %d bits, got %s", path, t.Bits(), n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			return nil, mismatch()
		}
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			return nil, fmt.Errorf("field %q: want a non-negative integer that fits %d bits, got %s", path, t.Bits(), n)
		}
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return nil, mismatch()
		}
		if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			return nil, fmt.Errorf("field %q: want a number that fits %d bits, got %s", path, t.Bits(), n)
		}
	}
	return v, nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// wantKind names the JSON type a Go type is read from.
func wantKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "an ISO-8601 date-time string or epoch milliseconds"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// syntaxError turns a decoder error into one naming the line and column.
func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("invalid job JSON: empty input")
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := lineCol(data, int64(len(data)))
		return fmt.Errorf("invalid job JSON at line %d, column %d: unexpected end of input", line, col)
	case errors.As(err, &se):
		line, col := lineCol(data, se.Offset)
		return fmt.Errorf("invalid job JSON at line %d, column %d: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
	}
	return fmt.Errorf("invalid job JSON: %w", err)
}

// lineCol converts a count of bytes read, as json.SyntaxError.Offset gives it, to the
// 1-based line and column of the last byte read (columns count bytes).
func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col == 0 {
		col = 1
	}
	return line, col
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\n', '\r':
			off++
		default:
			return off
		}
	}
	return off
}
