package model

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseHostSelector(t *testing.T) {
	tests := []struct {
		in   string
		want HostSelector
		err  string // substring; "" means it parses
	}{
		{"role=web", HostSelector{"role", OpEquals, []string{"web"}}, ""},
		{"  role = web  ", HostSelector{"role", OpEquals, []string{"web"}}, ""},
		{"role!=web", HostSelector{"role", OpNotEquals, []string{"web"}}, ""},
		{"role != web", HostSelector{"role", OpNotEquals, []string{"web"}}, ""},
		{"role in (web, db)", HostSelector{"role", OpIn, []string{"web", "db"}}, ""},
		{"role in(web,db)", HostSelector{"role", OpIn, []string{"web", "db"}}, ""},
		{"role\tin\t( web )", HostSelector{"role", OpIn, []string{"web"}}, ""},
		{"role notin (web)", HostSelector{"role", OpNotIn, []string{"web"}}, ""},
		{"pool.zone=us-east-1a", HostSelector{"pool.zone", OpEquals, []string{"us-east-1a"}}, ""},
		{"", HostSelector{}, "want label=value"},
		{"role", HostSelector{}, "want label=value"},
		{"role=", HostSelector{}, "want label=value"},
		{"=web", HostSelector{}, "want label=value"},
		{"role==web", HostSelector{}, "want label=value"},
		{"role=a b", HostSelector{}, "want label=value"},
		{"role=a,b", HostSelector{}, "want label=value"},
		{"role in web", HostSelector{}, "want label=value"},
		{"rolein (web)", HostSelector{}, "want label=value"},
		{"role in ()", HostSelector{}, `"" is not a value`},
		{"role in (a,,b)", HostSelector{}, `"" is not a value`},
		{"role in (a b)", HostSelector{}, `"a b" is not a value`},
		{"role IN (a)", HostSelector{}, "want label=value"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseHostSelector(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			back, err := ParseHostSelector(got.String())
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Errorf("String() %q parses back to %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestHostSelectorMatches(t *testing.T) {
	labels := map[string]string{"role": "web", "zone": "a", "empty": ""}
	tests := []struct {
		sel  string
		want bool
	}{
		{"role=web", true},
		{"role=db", false},
		{"role!=db", true},
		{"role!=web", false},
		{"role in (db, web)", true},
		{"role in (db, cache)", false},
		{"role notin (db, cache)", true},
		{"role notin (db, web)", false},
		// A host without the label matches nothing, not even the negative operators.
		{"team=x", false},
		{"team!=x", false},
		{"team in (x)", false},
		{"team notin (x)", false},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			s, err := ParseHostSelector(tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Matches(labels); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
	if (HostSelector{Label: "role", Operator: "BOGUS", Operand: []string{"web"}}).Matches(labels) {
		t.Error("an unknown operator matched")
	}
}

func TestParseHostSelectorsAndMatchAll(t *testing.T) {
	sels, err := ParseHostSelectors([]string{"role=web", "zone in (a, b)"})
	if err != nil {
		t.Fatal(err)
	}
	if !MatchAll(sels, map[string]string{"role": "web", "zone": "b"}) {
		t.Error("both hold, MatchAll = false")
	}
	if MatchAll(sels, map[string]string{"role": "web", "zone": "c"}) {
		t.Error("one fails, MatchAll = true")
	}
	if !MatchAll(nil, nil) {
		t.Error("no selectors must match every host")
	}
	if _, err := ParseHostSelectors([]string{"role=web", "bad"}); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("err = %v, want one naming the bad expression", err)
	}
}

func TestHostSelectorReadsTheOriginalsStringOperand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want HostSelector
		bad  bool
	}{
		{`{"label":"role","operator":"EQUALS","operand":"web"}`, HostSelector{"role", OpEquals, []string{"web"}}, false},
		{`{"label":"role","operator":"IN","operand":["a","b"]}`, HostSelector{"role", OpIn, []string{"a", "b"}}, false},
		{`{"label":"role","operator":"IN","operand":3}`, HostSelector{}, true},
	} {
		var got HostSelector
		err := json.Unmarshal([]byte(tc.in), &got)
		if (err != nil) != tc.bad {
			t.Fatalf("%s: error %v, want error %v", tc.in, err, tc.bad)
		}
		if !tc.bad && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
