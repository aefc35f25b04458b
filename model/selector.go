package model

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Selector operators.
const (
	OpEquals    = "EQUALS"
	OpNotEquals = "NOT_EQUALS"
	OpIn        = "IN"
	OpNotIn     = "NOT_IN"
)

// HostSelector picks hosts by one label. A host lacking the label matches no selector on it,
// not even != or notin.
type HostSelector struct {
	Label    string   `json:"label"`
	Operator string   `json:"operator"`
	Operand  []string `json:"operand"` // one value for EQUALS and NOT_EQUALS
}

// selectorRE splits "label op operand". The label and a single value may not contain
// white space, '=', '!', '(' or ')'.
var (
	selectorEqRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*([^\s=!()]+)\s*(=|!=)\s*([^\s=!(),]+)\s*$`) })
	selectorSetRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*([^\s=!()]+)\s+(in|notin)\s*\(([^()]*)\)\s*$`) })
	selectorValRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[^\s=!(),]+$`) })
)

// ParseHostSelector parses `label=value`, `label!=value`, `label in (a, b)` or
// `label notin (a, b)`.
func ParseHostSelector(s string) (HostSelector, error) {
	if m := selectorEqRE().FindStringSubmatch(s); m != nil {
		op := OpEquals
		if m[2] == "!=" {
			op = OpNotEquals
		}
		return HostSelector{Label: m[1], Operator: op, Operand: []string{m[3]}}, nil
	}
	if m := selectorSetRE().FindStringSubmatch(s); m != nil {
		op := OpIn
		if m[2] == "notin" {
			op = OpNotIn
		}
		var vals []string
		for _, v := range strings.Split(m[3], ",") {
			v = strings.TrimSpace(v)
			if !selectorValRE().MatchString(v) {
				return HostSelector{}, fmt.Errorf("invalid host selector %q: %q is not a value (want \"label %s (a, b)\")", s, v, m[2])
			}
			vals = append(vals, v)
		}
		return HostSelector{Label: m[1], Operator: op, Operand: vals}, nil
	}
	return HostSelector{}, fmt.Errorf("invalid host selector %q: want label=value, label!=value, \"label in (a, b)\" or \"label notin (a, b)\"", s)
}

// ParseHostSelectors parses each expression; all must hold for a host to match.
func ParseHostSelectors(exprs []string) ([]HostSelector, error) {
	out := make([]HostSelector, 0, len(exprs))
	for _, e := range exprs {
		sel, err := ParseHostSelector(e)
		if err != nil {
			return nil, err
		}
		out = append(out, sel)
	}
	return out, nil
}

// Matches tells whether a host with these labels satisfies the selector.
func (s HostSelector) Matches(labels map[string]string) bool {
	v, ok := labels[s.Label]
	if !ok {
		return false
	}
	in := false
	for _, o := range s.Operand {
		if o == v {
			in = true
			break
		}
	}
	switch s.Operator {
	case OpEquals, OpIn:
		return in
	case OpNotEquals, OpNotIn:
		return !in
	}
	return false
}

// String renders the selector in the syntax ParseHostSelector reads.
func (s HostSelector) String() string {
	switch s.Operator {
	case OpEquals:
		return s.Label + "=" + strings.Join(s.Operand, "")
	case OpNotEquals:
		return s.Label + "!=" + strings.Join(s.Operand, "")
	case OpIn:
		return s.Label + " in (" + strings.Join(s.Operand, ", ") + ")"
	case OpNotIn:
		return s.Label + " notin (" + strings.Join(s.Operand, ", ") + ")"
	}
	return s.Label + " ? " + strings.Join(s.Operand, ",")
}

// MatchAll tells whether labels satisfy every selector.
func MatchAll(sels []HostSelector, labels map[string]string) bool {
	for _, s := range sels {
		if !s.Matches(labels) {
			return false
		}
	}
	return true
}

// UnmarshalJSON reads the operand as a list, or as one string as the original writes it for
// EQUALS and NOT_EQUALS.
func (s *HostSelector) UnmarshalJSON(b []byte) error {
	var v struct {
		Label    string          `json:"label"`
		Operator string          `json:"operator"`
		Operand  json.RawMessage `json:"operand"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = HostSelector{Label: v.Label, Operator: v.Operator}
	if len(v.Operand) == 0 || string(v.Operand) == "null" {
		return nil
	}
	var one string
	if err := json.Unmarshal(v.Operand, &one); err == nil {
		s.Operand = []string{one}
		return nil
	}
	if err := json.Unmarshal(v.Operand, &s.Operand); err != nil {
		return fmt.Errorf("host selector operand: want a string or a list of strings: %w", err)
	}
	return nil
}
