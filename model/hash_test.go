package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// goldenJob is fixed: its hashes below must never change, or every job id stored by an
// existing cluster would stop matching its configuration.
func goldenJob() Job {
	ext := 8080
	grace := 0
	mem := int64(1 << 20)
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	return Job{
		Image:        "ubuntu:12.04",
		Command:      []string{"/bin/sh", "-c", "while true; do echo $FOO; date; sleep 60; done"},
		Env:          map[string]string{"FOO": "bar", "EMPTY": ""},
		Ports:        map[string]PortMapping{"http": {InternalPort: 80, ExternalPort: &ext}, "dns": {InternalPort: 53, Protocol: "udp"}},
		Registration: map[string]ServicePorts{"web/http": {Ports: map[string]ServicePortParameters{"http": {Tags: []string{"a"}}}}},
		GracePeriod:  &grace,
		Volumes:      map[string]string{"/data": "", "/etc/x:ro": "/etc/x"},
		Expires:      &exp,
		Resources:    &Resources{Memory: &mem},
		HealthCheck:  &HealthCheck{Type: "http", Port: "http", Path: "/"},
	}
}

func TestConfigHashGolden(t *testing.T) {
	j := goldenJob()
	cfg, err := ConfigHash(&j)
	if err != nil {
		t.Fatal(err)
	}
	if want := "f0ad3a78c549d4c11e512dd268acf44e54df5999"; cfg != want {
		t.Errorf("ConfigHash = %s, want %s", cfg, want)
	}
	h, err := ComputeJobHash("testjob", "1", &j)
	if err != nil {
		t.Fatal(err)
	}
	if want := "51f7ebb1df77736a60e9797cedc12e9a3925cbef"; h != want {
		t.Errorf("ComputeJobHash = %s, want %s", h, want)
	}
}

func mustHash(t *testing.T, j *Job) string {
	t.Helper()
	h, err := ComputeJobHash("n", "v", j)
	if err != nil {
		t.Fatalf("hash: %v", err)
	}
	return h
}

func mustParse(t *testing.T, s string) Job {
	t.Helper()
	j, _, err := ParseJobJSON([]byte(s))
	if err != nil {
		t.Fatalf("ParseJobJSON(%s): %v", s, err)
	}
	return j
}

func TestConfigHashSameForEquivalentJSON(t *testing.T) {
	tests := []struct{ name, a, b string }{
		{"key order",
			`{"image":"x","command":["a","b"],"env":{"A":"1","B":"2"},"ports":{"p":{"internalPort":1,"externalPort":2}}}`,
			`{"ports":{"p":{"externalPort":2,"internalPort":1}},"env":{"B":"2","A":"1"},"command":["a","b"],"image":"x"}`},
		{"empty fields spelled out",
			`{"image":"x"}`,
			`{"image":"x","command":[],"env":{},"ports":{},"registration":{},"volumes":{},"hostname":"","registrationDomain":"","securityOpt":[],"metadata":{},"labels":{},"resources":{},"expires":null,"healthCheck":null,"networkMode":"","token":""}`},
		{"protocol tcp is the default",
			`{"image":"x","ports":{"p":{"internalPort":1}}}`,
			`{"image":"x","ports":{"p":{"internalPort":1,"protocol":"tcp"}}}`},
		{"registration ports null or empty",
			`{"image":"x","ports":{"p":{"internalPort":1}},"registration":{"s":{}}}`,
			`{"image":"x","ports":{"p":{"internalPort":1}},"registration":{"s":{"ports":{}}}}`},
		{"expires as string or epoch millis or other zone",
			`{"image":"x","expires":"2014-06-01T12:00:00Z"}`,
			`{"image":"x","expires":1401624000000}`},
		{"expires in another zone",
			`{"image":"x","expires":"2014-06-01T12:00:00Z"}`,
			`{"image":"x","expires":"2014-06-01T14:00:00+02:00"}`},
		{"master's fields and unknown fields ignored",
			`{"image":"x"}`,
			`{"image":"x","id":"a:b:c","created":123,"creatingUser":"bob","futureField":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mustParse(t, tt.a), mustParse(t, tt.b)
			if ha, hb := mustHash(t, &a), mustHash(t, &b); ha != hb {
				t.Errorf("hashes differ: %s vs %s", ha, hb)
			}
		})
	}
}

func TestConfigHashDiffersForDifferentConfig(t *testing.T) {
	base := `{"image":"x","ports":{"p":{"internalPort":1}},"env":{"A":"1"}}`
	tests := []struct{ name, other string }{
		{"image", `{"image":"y","ports":{"p":{"internalPort":1}},"env":{"A":"1"}}`},
		{"internal port", `{"image":"x","ports":{"p":{"internalPort":2}},"env":{"A":"1"}}`},
		{"static external port 0", `{"image":"x","ports":{"p":{"internalPort":1,"externalPort":0}},"env":{"A":"1"}}`},
		{"udp", `{"image":"x","ports":{"p":{"internalPort":1,"protocol":"udp"}},"env":{"A":"1"}}`},
		{"env value", `{"image":"x","ports":{"p":{"internalPort":1}},"env":{"A":"2"}}`},
		{"empty env var is still set", `{"image":"x","ports":{"p":{"internalPort":1}},"env":{"A":"1","B":""}}`},
		{"anonymous volume", `{"image":"x","ports":{"p":{"internalPort":1}},"env":{"A":"1"},"volumes":{"/data":""}}`},
		{"registration without ports", `{"image":"x","ports":{"p":{"internalPort":1}},"env":{"A":"1"},"registration":{"s":{}}}`},
		{"command", `{"image":"x","ports":{"p":{"internalPort":1}},"env":{"A":"1"},"command":["a"]}`},
		{"command with empty arg", `{"image":"x","ports":{"p":{"internalPort":1}},"env":{"A":"1"},"command":["a",""]}`},
		{"rollout migrate false", `{"image":"x","ports":{"p":{"internalPort":1}},"env":{"A":"1"},"rolloutOptions":{"migrate":false}}`},
		{"token", `{"image":"x","ports":{"p":{"internalPort":1}},"env":{"A":"1"},"token":"t"}`},
	}
	b := mustParse(t, base)
	hb := mustHash(t, &b)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := mustParse(t, tt.other)
			if ho := mustHash(t, &o); ho == hb {
				t.Errorf("same hash %s for %s and %s", hb, base, tt.other)
			}
		})
	}
	// Name and version are part of the id's hash.
	h1, _ := ComputeJobHash("n", "1", &b)
	h2, _ := ComputeJobHash("n", "2", &b)
	if h1 == h2 {
		t.Error("versions 1 and 2 hash alike")
	}
}

func TestConfigHashLeavesOutMasterFields(t *testing.T) {
	j := goldenJob()
	want := mustHash(t, &j)
	created := int64(1234)
	j.Created, j.CreatingUser, j.ID = &created, "alice", "x:y:z"
	if got := mustHash(t, &j); got != want {
		t.Errorf("created/creatingUser/id changed the hash: %s != %s", got, want)
	}
}

func TestNormalize(t *testing.T) {
	j := Job{ID: "a:b", Image: "x", Ports: map[string]PortMapping{"p": {InternalPort: 1}}, Registration: map[string]ServicePorts{"s": {}}}
	before := mustHash(t, &j)
	j.Normalize()
	if after := mustHash(t, &j); after != before {
		t.Errorf("Normalize changed the hash: %s -> %s", before, after)
	}
	if got := j.Ports["p"].Protocol; got != ProtocolTCP {
		t.Errorf("port protocol = %q, want tcp", got)
	}
	raw, err := json.Marshal(&j)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"command":[]`, `"env":{}`, `"registration":{"s":{"ports":{}}}`, `"protocol":"tcp"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("normalized JSON %s lacks %s", raw, want)
		}
	}
	empty := Job{ID: "a:b", Image: "x"}
	empty.Normalize()
	raw, _ = json.Marshal(&empty)
	if want := `{"id":"a:b","image":"x","command":[],"env":{},"ports":{},"registration":{}}`; string(raw) != want {
		t.Errorf("normalized empty job = %s, want %s", raw, want)
	}
}

func TestConfigHashDoesNotTouchJob(t *testing.T) {
	j := Job{Image: "x", Ports: map[string]PortMapping{"p": {InternalPort: 1}}}
	mustHash(t, &j)
	if j.Ports["p"].Protocol != "" {
		t.Error("ConfigHash wrote the default protocol into the caller's ports")
	}
}

func TestWithComputedID(t *testing.T) {
	j, err := WithComputedID("testjob", "1", goldenJob())
	if err != nil {
		t.Fatal(err)
	}
	g := goldenJob()
	if want := NewJobID("testjob", "1", mustHashNV(t, "testjob", "1", &g)); j.ID != want {
		t.Errorf("id = %s, want %s", j.ID, want)
	}
	if !j.ID.IsFull() {
		t.Errorf("id %s is not full", j.ID)
	}
}

func mustHashNV(t *testing.T, n, v string, j *Job) string {
	t.Helper()
	h, err := ComputeJobHash(n, v, j)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
