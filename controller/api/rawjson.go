package api

import (
	"bytes"
	"encoding/json"
)

// dropMember returns the JSON object obj without its members called name, or obj itself
// when it has none or is not a JSON object. It tracks strings and nesting only, so it is far cheaper than decoding
// and encoding the object; the values kept are copied byte for byte.
func dropMember(obj []byte, name string) []byte {
	type span struct{ start, end int }
	var kept []span
	dropped := false
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return obj
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return obj
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return obj
		}
		start := i
		keyEnd := skipString(obj, i)
		if keyEnd < 0 {
			return obj
		}
		i = skipSpace(obj, keyEnd)
		if i >= len(obj) || obj[i] != ':' {
			return obj
		}
		end := skipValue(obj, skipSpace(obj, i+1))
		if end < 0 {
			return obj
		}
		if keyIs(obj[start:keyEnd], name) {
			dropped = true
		} else {
			kept = append(kept, span{start, end})
		}
		i = skipSpace(obj, end)
		if i >= len(obj) {
			return obj
		}
		if obj[i] == '}' {
			break
		}
		if obj[i] != ',' {
			return obj
		}
		i = skipSpace(obj, i+1)
	}
	if !dropped {
		return obj
	}
	out := make([]byte, 0, len(obj))
	out = append(out, '{')
	for k, s := range kept {
		if k > 0 {
			out = append(out, ',')
		}
		out = append(out, obj[s.start:s.end]...)
	}
	return append(out, '}')
}

// isObject tells whether b is one valid JSON object (what the store holds is, unless
// written by hand).
func isObject(b []byte) bool {
	b = b[skipSpace(b, 0):]
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// keyIs tells whether the quoted key (as written, escapes and all) is name.
func keyIs(quoted []byte, name string) bool {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1:len(quoted)-1]) == name
	}
	var key string
	return json.Unmarshal(quoted, &key) == nil && key == name
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] ('"'), or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				i-- // the loop steps past the closing quote
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}
