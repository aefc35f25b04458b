package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

func boolp(v bool) *bool                { return &v }
func strp(v string) *string             { return &v }
func int64p(v int64) *int64             { return &v }
func statep(s model.State) *model.State { return &s }
func jobp(id model.JobID) *model.JobID  { return &id }

func TestParseRolloutArgs(t *testing.T) {
	cases := []struct {
		name    string
		in      rolloutArgs
		want    model.RolloutOptions
		wait    time.Duration
		wantErr string
	}{
		{name: "nothing given: every option unset", in: rolloutArgs{}, want: model.RolloutOptions{}, wait: time.Hour},
		{name: "numbers", in: rolloutArgs{Timeout: "30", Parallelism: " 2 ", RolloutTimeout: "5", Canary: "1"},
			want: model.RolloutOptions{Timeout: int64p(30), Parallelism: intp(2), Canary: intp(1)}, wait: 5 * time.Minute},
		{name: "flags given as false stay false", in: rolloutArgs{Migrate: boolp(false), Overlap: boolp(true), IgnoreFailures: boolp(true), AutoRollback: boolp(true), Token: strp("")},
			want: model.RolloutOptions{Migrate: boolp(false), Overlap: boolp(true), IgnoreFailures: boolp(true), AutoRollback: boolp(true), Token: strp("")}, wait: time.Hour},
		{name: "canary 0 is no pause", in: rolloutArgs{Canary: "0"}, want: model.RolloutOptions{Canary: intp(0)}, wait: time.Hour},
		{name: "zero timeout", in: rolloutArgs{Timeout: "0"}, wantErr: "Timeout must be greater than 0"},
		{name: "negative timeout", in: rolloutArgs{Timeout: "-5"}, wantErr: "Timeout must be greater than 0"},
		{name: "zero parallelism", in: rolloutArgs{Parallelism: "0"}, wantErr: "Parallelism must be greater than 0"},
		{name: "zero rollout timeout", in: rolloutArgs{RolloutTimeout: "0"}, wantErr: "Rollout timeout must be greater than 0"},
		{name: "negative canary", in: rolloutArgs{Canary: "-1"}, wantErr: "Canary must be 0 or greater"},
		{name: "word for a timeout", in: rolloutArgs{Timeout: "5m"}, wantErr: `Invalid --timeout "5m": want a whole number of seconds`},
		{name: "word for parallelism", in: rolloutArgs{Parallelism: "all"}, wantErr: `Invalid --par "all": want a whole number of hosts`},
		{name: "huge number", in: rolloutArgs{RolloutTimeout: "99999999999"}, wantErr: `Invalid --rollout-timeout "99999999999"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, wait, err := parseRolloutArgs(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if compactJSON(got) != compactJSON(tc.want) || wait != tc.wait {
				t.Fatalf("got %s wait %s, want %s wait %s", compactJSON(got), wait, compactJSON(tc.want), tc.wait)
			}
		})
	}
}

func FuzzParseRolloutArgs(f *testing.F) {
	f.Add("30", "2", "60", "1")
	f.Add("", "", "", "")
	f.Add("-1", "0", "x", " 3")
	f.Add("2147483647", "2147483647", "2147483647", "2147483647")
	f.Fuzz(func(t *testing.T, timeout, par, wait, canary string) {
		o, d, err := parseRolloutArgs(rolloutArgs{Timeout: timeout, Parallelism: par, RolloutTimeout: wait, Canary: canary})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		// Whatever is accepted, the master accepts too, and the wait is positive.
		if p := o.Problems(); len(p) > 0 {
			t.Fatalf("accepted options the master refuses: %v", p)
		}
		if d <= 0 {
			t.Fatalf("wait %s", d)
		}
		if (timeout == "") != (o.Timeout == nil) || (par == "") != (o.Parallelism == nil) || (canary == "") != (o.Canary == nil) {
			t.Fatalf("given and set disagree: %s", compactJSON(o))
		}
	})
}

func TestParseGroupSelectors(t *testing.T) {
	cases := []struct {
		in      []string
		want    string
		wantErr string
	}{
		{in: []string{"foo=bar", "baz!=qux"}, want: "foo = bar|baz != qux"},
		{in: []string{"dc in (ams, lon)", "tier notin (a)"}, want: "dc in [ams, lon]|tier notin [a]"},
		{in: []string{"foo=bar", "role"}, wantErr: "Bad host selector expression: 'role'"},
		{in: []string{"a in (b"}, wantErr: "Bad host selector expression: 'a in (b'"},
		{in: []string{"a = b c"}, wantErr: "Bad host selector expression: 'a = b c'"},
	}
	for _, tc := range cases {
		sels, err := parseGroupSelectors(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		var got []string
		for _, s := range sels {
			got = append(got, prettySelector(s))
		}
		if err != nil || strings.Join(got, "|") != tc.want {
			t.Errorf("%q: %v %v, want %s", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseGroupSelectors(f *testing.F) {
	for _, s := range []string{"foo=bar", "a in (b, c)", "x notin ()", "=", "a!=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sels, err := parseGroupSelectors([]string{s})
		if err != nil {
			if !strings.Contains(err.Error(), "'"+s+"'") {
				t.Fatalf("error %q does not name the expression", err)
			}
			return
		}
		if p := model.ValidateNewDeploymentGroup(model.DeploymentGroup{Name: "g", HostSelectors: sels}); len(p) > 0 {
			t.Fatalf("accepted %q, which the master refuses: %v", s, p)
		}
	})
}

func TestStartLine(t *testing.T) {
	o := model.ResolveRolloutOptions(&model.RolloutOptions{Parallelism: intp(2)})
	id := model.JobID("foo:1:0123456789abcdef0123456789abcdef01234567")
	if got, want := startLine("g", id, o, false), "Rolling update started: g -> foo:1:0123456 (parallelism=2, timeout=300, overlap=false, token=, ignoreFailures=false, migrate=false)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	o.Canary, o.AutoRollback = intp(1), boolp(true)
	if got, want := startLine("g", id, o, true), "Rolling update (async) started: g -> foo:1:0123456 (parallelism=2, timeout=300, overlap=false, token=, ignoreFailures=false, migrate=false, autoRollback=true, canary=1)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestRollingUpdateResultJSON(t *testing.T) {
	o := model.ResolveRolloutOptions(nil)
	res := resultOf(o, model.StatusFailed)
	d := 1.5
	res.Duration, res.Error, res.RolledBack = &d, "h1: boom", true
	want := `{"duration":1.5,"error":"h1: boom","ignoreFailures":false,"migrate":false,"overlap":false,"parallelism":1,"rolledBack":true,"status":"FAILED","timeout":300,"token":""}`
	if got := compactJSON(res); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got, want := compactJSON(resultOf(o, model.StatusOK)), `{"ignoreFailures":false,"migrate":false,"overlap":false,"parallelism":1,"status":"OK","timeout":300,"token":""}`; got != want {
		t.Errorf("async: got %s\nwant %s", got, want)
	}
}

func TestWriteRolloutEnd(t *testing.T) {
	cases := []struct {
		end  rolloutEnd
		want string
	}{
		{rolloutEnd{status: outcomeDone}, "\nDone.\nDuration: 4.00 s\n"},
		{rolloutEnd{status: outcomeTimeout}, "\nTimed out! (rolling-update still in progress)\nDuration: 4.00 s\n"},
		{rolloutEnd{status: outcomePaused}, "\nPaused after the canary hosts: run 'helios promote-deployment-group web' to go on\nDuration: 4.00 s\n"},
		{rolloutEnd{status: outcomeFailed, err: "h1: boom"}, "\nFailed: h1: boom\nDuration: 4.00 s\n"},
		{rolloutEnd{status: outcomeFailed, err: "h1: boom", rolledBack: true, rollbackErrors: []string{"h2: gone"}},
			"\nFailed: h1: boom\nRolled back.\nRollback problems:\n  h2: gone\nDuration: 4.00 s\n"},
	}
	for _, tc := range cases {
		var b bytes.Buffer
		writeRolloutEnd(&b, "web", &tc.end, 4*time.Second)
		if b.String() != tc.want {
			t.Errorf("%+v:\ngot  %q\nwant %q", tc.end, b.String(), tc.want)
		}
	}
}
