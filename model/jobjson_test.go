package model

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func boolp(v bool) *bool           { return &v }
func strp(v string) *string        { return &v }
func timep(t time.Time) *time.Time { return &t }

// manualJob is the manual's "All Helios Job Options" example, field for field.
func manualJob() Job {
	return Job{
		ID:               "myservice:0.5:3539b7bc2235d53f79e6e8511942bbeaa8816265",
		Image:            "myregistry:80/janedoe/myservice:0.5-98c6ff4",
		Hostname:         "myhost",
		AddCapabilities:  []string{"IPC_LOCK", "SYSLOG"},
		DropCapabilities: []string{"SYS_BOOT", "KILL"},
		Command:          []string{"server", "serverconfig.yaml"},
		Env:              map[string]string{"JVM_ARGS": "-Ddw.feature.randomFeatureFlagEnabled=true"},
		Expires:          timep(time.Date(2014, 6, 1, 12, 0, 0, 0, time.UTC)),
		GracePeriod:      intp(60),
		HealthCheck:      &HealthCheck{Type: "http", Path: "/healthcheck", Port: "http-admin"},
		Metadata:         map[string]string{"foo": "bar"},
		NetworkMode:      "bridge",
		Ports: map[string]PortMapping{
			"http":       {ExternalPort: intp(8080), InternalPort: 8080, Protocol: "tcp"},
			"http-admin": {ExternalPort: intp(8081), InternalPort: 8081, IP: "127.0.0.1", Protocol: "tcp"},
		},
		Ramdisks:           map[string]string{"/mount/point/in/container": "mount-options"},
		Registration:       map[string]ServicePorts{"fooservice/http": {Ports: map[string]ServicePortParameters{"http": {}}}},
		RegistrationDomain: "",
		Resources:          &Resources{Memory: int64p(10485760), MemorySwap: int64p(10485760), CPUSet: "0", CPUShares: int64p(512)},
		RolloutOptions: &RolloutOptions{
			Migrate: boolp(false), Parallelism: intp(2), Timeout: int64p(1000), Overlap: boolp(true),
			Token: strp("insecure-access-token"), IgnoreFailures: boolp(false),
		},
		SecondsToWaitBeforeKill: intp(120),
		SecurityOpt:             []string{"label:user:USER", "apparmor:PROFILE"},
		Token:                   "insecure-access-token",
		Runtime:                 "nvidia",
		Volumes:                 map[string]string{"/destination/path/in/container.yaml:ro": "/source/path/in/host.yaml"},
	}
}

func readManualJob(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/all_options_job.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseJobJSONManualExample(t *testing.T) {
	j, unknown, err := ParseJobJSON(readManualJob(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(unknown) != 0 {
		t.Errorf("unknown fields %q in the manual's example", unknown)
	}
	want := manualJob()
	got, w := reflect.ValueOf(j), reflect.ValueOf(want)
	for i := 0; i < got.NumField(); i++ {
		name := got.Type().Field(i).Name
		if name == "Expires" {
			if !j.Expires.Equal(*want.Expires) {
				t.Errorf("Expires = %v, want %v", j.Expires, want.Expires)
			}
			continue
		}
		if !reflect.DeepEqual(got.Field(i).Interface(), w.Field(i).Interface()) {
			t.Errorf("%s = %#v, want %#v", name, got.Field(i).Interface(), w.Field(i).Interface())
		}
	}
}

func TestValidateManualExample(t *testing.T) {
	j, _, err := ParseJobJSON(readManualJob(t))
	if err != nil {
		t.Fatal(err)
	}
	opts := ValidateOptions{Now: testNow}
	// Its id's hash is the original's, from a different canonical form: ours differs.
	assertMessages(t, ValidateJob(&j, opts), []string{
		`Invalid id "myservice:0.5:3539b7bc2235d53f79e6e8511942bbeaa8816265": hash "3539b7bc2235d53f79e6e8511942bbeaa8816265" does not match`,
		`Invalid expires 2014-06-01T12:00:00Z: in the past`,
		`Invalid addCapabilities IPC_LOCK, SYSLOG: not in the master's capability whitelist (allowed: none)`,
		`Invalid gracePeriod 60: not allowed with static external ports ("http", "http-admin")`,
	})

	j.Expires = nil
	j.GracePeriod = nil
	opts.CapabilityWhitelist = []string{"IPC_LOCK", "SYSLOG"}
	j, err = WithComputedID(j.ID.Name(), j.ID.Version(), j)
	if err != nil {
		t.Fatal(err)
	}
	if msgs := ValidateJob(&j, opts); len(msgs) != 0 {
		t.Errorf("fixed manual example: %q", msgs)
	}
}

func TestParseJobJSONUnknownFields(t *testing.T) {
	j, unknown, err := ParseJobJSON([]byte(`{"image":"x","Image":"y","foo":1,
		"ports":{"http":{"internalPort":1,"bogus":2}},
		"healthCheck":{"type":"tcp","port":"http","x":{"y":1}},
		"registration":{"s/tcp":{"ports":{"http":{"tagz":[]}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Image", "foo", "healthCheck.x", "ports.http.bogus", "registration.s/tcp.ports.http.tagz"}
	if !reflect.DeepEqual(unknown, want) {
		t.Errorf("unknown = %q, want %q", unknown, want)
	}
	if j.Image != "x" {
		t.Errorf("image = %q: a field differing only in case must not set it", j.Image)
	}
	if j.Ports["http"].InternalPort != 1 || j.HealthCheck.Port != "http" {
		t.Errorf("known fields next to unknown ones were lost: %+v", j)
	}
}

func TestParseJobJSONExpires(t *testing.T) {
	want := time.Date(2014, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        *time.Time // nil: no expiry
		err         string
	}{
		{"rfc3339", `"2014-06-01T12:00:00Z"`, &want, ""},
		{"offset", `"2014-06-01T14:00:00+02:00"`, &want, ""},
		{"jackson", `"2014-06-01T12:00:00.000+0000"`, &want, ""},
		{"no zone is utc", `"2014-06-01T12:00:00"`, &want, ""},
		{"epoch millis", `1401624000000`, &want, ""},
		{"null", `null`, nil, ""},
		{"not a date", `"tomorrow"`, nil, `field "expires": want an ISO-8601 date-time such as 2014-06-01T12:00:00Z, got "tomorrow"`},
		{"fractional millis", `1.5`, nil, `field "expires": want whole epoch milliseconds`},
		{"beyond year 9999", `1e18`, nil, `field "expires": epoch milliseconds 1e18 out of range`},
		{"boolean", `true`, nil, `field "expires": want an ISO-8601 date-time string or epoch milliseconds, got boolean`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := `{"image":"x","expires":` + tt.value + `}`
			j, _, err := ParseJobJSON([]byte(doc))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want == nil && j.Expires != nil:
				t.Errorf("expires = %v, want none", j.Expires)
			case tt.want != nil && (j.Expires == nil || !j.Expires.Equal(*tt.want)):
				t.Errorf("expires = %v, want %v", j.Expires, tt.want)
			}
			// encoding/json reads the same forms, through Job.UnmarshalJSON.
			var direct Job
			if err := json.Unmarshal([]byte(doc), &direct); err != nil {
				t.Fatalf("json.Unmarshal: %v", err)
			}
			if (direct.Expires == nil) != (j.Expires == nil) || (j.Expires != nil && !direct.Expires.Equal(*j.Expires)) {
				t.Errorf("json.Unmarshal expires = %v, ParseJobJSON = %v", direct.Expires, j.Expires)
			}
		})
	}
}

func TestJobJSONWritesExpiresAsRFC3339(t *testing.T) {
	j := mustParse(t, `{"image":"x","expires":1401624000000}`)
	raw, err := json.Marshal(&j)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"expires":"2014-06-01T12:00:00Z"`) {
		t.Errorf("JSON %s lacks an RFC 3339 expires", raw)
	}
}

func TestUnmarshalJSONLeavesAbsentExpires(t *testing.T) {
	j := Job{Expires: timep(time.Unix(0, 0))}
	if err := json.Unmarshal([]byte(`{"image":"x"}`), &j); err != nil {
		t.Fatal(err)
	}
	if j.Expires == nil || j.Image != "x" {
		t.Errorf("got %+v: an absent expires must be left alone and image set", j)
	}
	if err := json.Unmarshal([]byte(`{"expires":"soon"}`), &j); err == nil || !strings.Contains(err.Error(), `"expires"`) {
		t.Errorf("err = %v, want one naming expires", err)
	}
}

func TestParseJobJSONErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"string for number", `{"ports":{"http":{"internalPort":"80"}}}`, `field "ports.http.internalPort": want a number, got string`},
		{"string for array", `{"command":"ls -l"}`, `field "command": want an array, got string`},
		{"number in array", `{"command":["ls",1]}`, `field "command[1]": want a string, got number`},
		{"array for object", `{"env":["A=1"]}`, `field "env": want an object, got array`},
		{"number for string", `{"image":1}`, `field "image": want a string, got number`},
		{"string for bool", `{"rolloutOptions":{"migrate":"yes"}}`, `field "rolloutOptions.migrate": want true or false, got string`},
		{"fraction for int", `{"gracePeriod":1.5}`, `field "gracePeriod": want an integer that fits 64 bits, got 1.5`},
		{"overflow", `{"resources":{"memory":99999999999999999999}}`, `field "resources.memory": want an integer`},
		{"object for string in map", `{"labels":{"a":{}}}`, `field "labels.a": want a string, got object`},
		{"syntax on line 3", "{\n  \"image\": \"x\",\n  \"env\": {,}\n}", `invalid job JSON at line 3, column 11: invalid character ','`},
		{"truncated", "{\"image\":", `unexpected end of input`},
		{"trailing data", "{\"image\":\"x\"}\n}", `line 2, column 1: unexpected data after the job object`},
		{"empty", "  ", `empty input`},
		{"array", `[1]`, `want an object, got array`},
		{"null document", `null`, `want an object, got null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseJobJSON([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseJobJSONNulls(t *testing.T) {
	j := mustParse(t, `{"image":"x","command":null,"env":null,"ports":{"p":null},"hostname":null,"resources":null,"gracePeriod":null}`)
	if j.Image != "x" || j.Command != nil || j.Env != nil || j.Resources != nil || j.GracePeriod != nil {
		t.Errorf("nulls must leave fields unset: %+v", j)
	}
	if p, ok := j.Ports["p"]; !ok || p.InternalPort != 0 {
		t.Errorf("ports = %+v, want p present and zero", j.Ports)
	}
}
