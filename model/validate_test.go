package model

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func testValidateOptions() ValidateOptions {
	return ValidateOptions{CapabilityWhitelist: []string{"NET_ADMIN"}, Now: testNow}
}

func intp(v int) *int       { return &v }
func int64p(v int64) *int64 { return &v }

// validBaseJob uses every field, validly.
func validBaseJob() Job {
	exp := testNow.Add(time.Hour)
	return Job{
		Image:    "registry.example.com:5000/team/app:1.2",
		Hostname: "app-1",
		Command:  []string{"serve"},
		Env:      map[string]string{"A": "b", "EMPTY": ""},
		Resources: &Resources{
			Memory: int64p(1 << 20), MemorySwap: int64p(2 << 20), CPUShares: int64p(512), CPUSet: "0-3,5",
		},
		Ports: map[string]PortMapping{
			"http":  {InternalPort: 8080},
			"admin": {InternalPort: 8081, IP: "127.0.0.1", Protocol: "tcp"},
		},
		Registration:            map[string]ServicePorts{"app/http": {Ports: map[string]ServicePortParameters{"http": {}}}},
		GracePeriod:             intp(10),
		Volumes:                 map[string]string{"/data:ro": "/srv/data", "/cache": "cache-vol", "/scratch": ""},
		Expires:                 &exp,
		HealthCheck:             &HealthCheck{Type: "http", Port: "admin", Path: "/health"},
		SecurityOpt:             []string{"label:user:USER"},
		NetworkMode:             "bridge",
		AddCapabilities:         []string{"NET_ADMIN"},
		DropCapabilities:        []string{"KILL", "ALL"},
		SecondsToWaitBeforeKill: intp(30),
		Ramdisks:                map[string]string{"/tmp": "rw,size=32m"},
	}
}

// withID sets a correct full id, so that only the rule under test can fail.
func withID(t *testing.T, j Job) Job {
	t.Helper()
	j, err := WithComputedID("app", "1.0", j)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestValidateJob(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(j *Job)
		want   []string // one substring per expected message; none: valid
	}{
		{"base job is valid", func(j *Job) {}, nil},
		{"minimal job is valid", func(j *Job) { *j = Job{Image: "busybox"} }, nil},

		{"image required", func(j *Job) { j.Image = "" }, []string{`image "": an image is required`}},
		{"image upper case", func(j *Job) { j.Image = "Ubuntu" }, []string{`Invalid image "Ubuntu"`}},
		{"image bad tag", func(j *Job) { j.Image = "ubuntu:bad tag" }, []string{`Invalid image`}},
		{"image tag too long", func(j *Job) { j.Image = "ubuntu:" + strings.Repeat("a", 129) }, []string{`Invalid image`}},
		{"image tag 128", func(j *Job) { j.Image = "ubuntu:" + strings.Repeat("a", 128) }, nil},
		{"image bad digest", func(j *Job) { j.Image = "ubuntu@sha256:abc" }, []string{`Invalid image`}},
		{"image digest", func(j *Job) { j.Image = "ubuntu@sha256:" + strings.Repeat("ab", 32) }, nil},
		{"image by id", func(j *Job) { j.Image = strings.Repeat("ab", 32) }, nil},
		{"image with registry port", func(j *Job) { j.Image = "myregistry:80/janedoe/myservice:0.5-98c6ff4" }, nil},

		{"hostname", func(j *Job) { j.Hostname = "Foo_bar" }, []string{`Invalid hostname "Foo_bar": must match ^[a-z0-9][a-z0-9-]{0,62}$`}},
		{"hostname leading dash", func(j *Job) { j.Hostname = "-a" }, []string{`Invalid hostname "-a"`}},
		{"hostname 64 chars", func(j *Job) { j.Hostname = strings.Repeat("a", 64) }, []string{`Invalid hostname`}},
		{"hostname 63 chars", func(j *Job) { j.Hostname = strings.Repeat("a", 63) }, nil},

		{"port protocol", func(j *Job) { setPort(j, "http", PortMapping{InternalPort: 1, Protocol: "sctp"}) }, []string{`ports.http.protocol "sctp": must be tcp or udp`}},
		{"port udp", func(j *Job) { setPort(j, "http", PortMapping{InternalPort: 1, Protocol: "udp"}) }, nil},
		{"internal port high", func(j *Job) { setPort(j, "http", PortMapping{InternalPort: 65536}) }, []string{`ports.http.internalPort 65536: must be 0-65535`}},
		{"internal port negative", func(j *Job) { setPort(j, "http", PortMapping{InternalPort: -1}) }, []string{`ports.http.internalPort -1`}},
		{"internal port max", func(j *Job) { setPort(j, "http", PortMapping{InternalPort: 65535}) }, nil},
		{"external port high", func(j *Job) {
			j.GracePeriod = nil
			setPort(j, "http", PortMapping{InternalPort: 1, ExternalPort: intp(70000)})
		}, []string{`ports.http.externalPort 70000: must be 0-65535`}},
		{"external port dynamic 0", func(j *Job) { setPort(j, "http", PortMapping{InternalPort: 1, ExternalPort: intp(0)}) }, nil},
		{"bad ip", func(j *Job) { setPort(j, "http", PortMapping{InternalPort: 1, IP: "1.2.3"}) }, []string{`ports.http.ip "1.2.3": not a valid IP address`}},
		{"ipv6", func(j *Job) { setPort(j, "http", PortMapping{InternalPort: 1, IP: "::1"}) }, nil},
		{"empty port name", func(j *Job) { setPort(j, "", PortMapping{InternalPort: 1}) }, []string{`port name "" in ports`}},
		{"duplicate external port", func(j *Job) {
			j.GracePeriod = nil
			setPort(j, "http", PortMapping{InternalPort: 1, ExternalPort: intp(80)})
			setPort(j, "admin", PortMapping{InternalPort: 2, ExternalPort: intp(80), Protocol: "tcp"})
		}, []string{`ports.http.externalPort 80: ports "admin" and "http" both ask for host port 80/tcp`}},
		{"same external port other protocol", func(j *Job) {
			j.GracePeriod = nil
			setPort(j, "http", PortMapping{InternalPort: 1, ExternalPort: intp(53)})
			setPort(j, "admin", PortMapping{InternalPort: 2, ExternalPort: intp(53), Protocol: "udp"})
		}, nil},

		{"registration service name", func(j *Job) { j.Registration = map[string]ServicePorts{"a b/tcp": regPorts("http")} }, []string{`registration "a b/tcp": service name "a b"`}},
		{"registration protocol", func(j *Job) { j.Registration = map[string]ServicePorts{"svc/tcp/x": regPorts("http")} }, []string{`registration "svc/tcp/x": protocol "tcp/x"`}},
		{"registration without protocol", func(j *Job) { j.Registration = map[string]ServicePorts{"svc": regPorts("http")} }, nil},
		{"registration missing port", func(j *Job) { j.Registration = map[string]ServicePorts{"svc/udp": regPorts("nope")} }, []string{`registration "svc/udp": port "nope" is not one of the job's ports`}},
		{"registration domain absolute", func(j *Job) { j.RegistrationDomain = "example.com." }, nil},
		{"registration domain relative", func(j *Job) { j.RegistrationDomain = "shop" }, nil},
		{"registration domain bad label", func(j *Job) { j.RegistrationDomain = "a..b" }, []string{`registrationDomain: invalid domain "a..b": empty label`}},
		{"registration domain bad character", func(j *Job) { j.RegistrationDomain = "sh op" }, []string{`invalid domain "sh op": label "sh op" has ' '`}},
		{"registration service too long", func(j *Job) {
			j.Registration = map[string]ServicePorts{strings.Repeat("s", 63): regPorts("http")}
		}, []string{`is 63 characters; at most 62`}},
		{"registration no ports, two job ports", func(j *Job) { j.Registration = map[string]ServicePorts{"svc": {}} }, []string{`registration "svc": names no port`}},
		{"registration no ports, one job port", func(j *Job) {
			j.HealthCheck = nil
			j.Ports = map[string]PortMapping{"only": {InternalPort: 1}}
			j.Registration = map[string]ServicePorts{"svc": {}}
		}, nil},

		{"volume relative", func(j *Job) { j.Volumes = map[string]string{"data": "/x"} }, []string{`volumes "data": container path "data" must be absolute`}},
		{"volume root", func(j *Job) { j.Volumes = map[string]string{"/:ro": "/x"} }, []string{`volumes "/:ro": container path must not be /`}},
		{"volume two modes", func(j *Job) { j.Volumes = map[string]string{"/d:ro:rw": "/x"} }, []string{`volumes "/d:ro:rw": at most one mode suffix`}},
		{"volume bad mode", func(j *Job) { j.Volumes = map[string]string{"/d:rx": "/x"} }, []string{`volumes "/d:rx": mode "rx" must be ro or rw`}},
		{"volume relative host path", func(j *Job) { j.Volumes = map[string]string{"/d": "rel/path"} }, []string{`volumes "/d": host path "rel/path" must be absolute`}},
		{"volume bad name", func(j *Job) { j.Volumes = map[string]string{"/d": "-bad"} }, []string{`volumes "/d": volume name "-bad"`}},
		{"volume same target twice", func(j *Job) { j.Volumes = map[string]string{"/d": "", "/d/:rw": "v1"} }, []string{`mount the same container path`}},

		{"expired", func(j *Job) { e := testNow.Add(-time.Second); j.Expires = &e }, []string{`expires 2026-11-26T23:59:59Z: in the past`}},
		{"expires now", func(j *Job) { e := testNow; j.Expires = &e }, nil},

		{"health check type", func(j *Job) { j.HealthCheck = &HealthCheck{Type: "grpc"} }, []string{`healthCheck.type "grpc": must be http, tcp or exec`}},
		{"exec without command", func(j *Job) { j.HealthCheck = &HealthCheck{Type: "exec"} }, []string{`healthCheck.command: an exec health check needs a non-empty command`}},
		{"exec with port", func(j *Job) { j.HealthCheck = &HealthCheck{Type: "exec", Command: []string{"true"}, Port: "http"} }, []string{`healthCheck.port: a health check of type exec takes no port`}},
		{"exec", func(j *Job) { j.HealthCheck = &HealthCheck{Type: "exec", Command: []string{"true"}} }, nil},
		{"http missing port", func(j *Job) { j.HealthCheck = &HealthCheck{Type: "http", Port: "nope", Path: "/"} }, []string{`healthCheck.port "nope": not one of the job's ports`}},
		{"http no port", func(j *Job) { j.HealthCheck = &HealthCheck{Type: "http", Path: "/"} }, []string{`healthCheck.port: a health check of type http needs a port name`}},
		{"http relative path", func(j *Job) { j.HealthCheck = &HealthCheck{Type: "http", Port: "http", Path: "health"} }, []string{`healthCheck.path "health": must start with /`}},
		{"http with command", func(j *Job) {
			j.HealthCheck = &HealthCheck{Type: "http", Port: "http", Path: "/", Command: []string{"x"}}
		}, []string{`healthCheck.command`}},
		{"tcp", func(j *Job) { j.HealthCheck = &HealthCheck{Type: "tcp", Port: "http"} }, nil},
		{"tcp with path", func(j *Job) { j.HealthCheck = &HealthCheck{Type: "tcp", Port: "http", Path: "/"} }, []string{`healthCheck.path: a health check of type tcp takes no path`}},

		{"network host", func(j *Job) { j.NetworkMode = "host" }, nil},
		{"network none", func(j *Job) { j.NetworkMode = "none" }, nil},
		{"network container", func(j *Job) { j.NetworkMode = "container:db1" }, nil},
		{"network container no name", func(j *Job) { j.NetworkMode = "container:" }, []string{`networkMode "container:": container:<name|id> needs a container name`}},
		{"network overlay", func(j *Job) { j.NetworkMode = "overlay" }, []string{`networkMode "overlay": must be bridge, host, none or container:<name|id>`}},

		{"capability not whitelisted", func(j *Job) { j.AddCapabilities = []string{"SYS_ADMIN", "NET_ADMIN", "SYSLOG"} }, []string{`addCapabilities SYS_ADMIN, SYSLOG: not in the master's capability whitelist (allowed: NET_ADMIN)`}},
		{"drop any capability", func(j *Job) { j.DropCapabilities = []string{"SYS_ADMIN", "WHATEVER"} }, nil},

		{"ramdisk relative", func(j *Job) { j.Ramdisks = map[string]string{"tmp": ""} }, []string{`ramdisks "tmp": mount point must be absolute`}},
		{"ramdisk root", func(j *Job) { j.Ramdisks = map[string]string{"/": ""} }, []string{`ramdisks "/": mount point must not be /`}},
		{"ramdisk on volume", func(j *Job) { j.Ramdisks = map[string]string{"/data/": ""} }, []string{`ramdisks "/data/": mount point is also a volume's container path`}},

		{"grace period with static port", func(j *Job) { setPort(j, "http", PortMapping{InternalPort: 1, ExternalPort: intp(80)}) },
			[]string{`gracePeriod 10: not allowed with static external ports ("http"): during the grace period the old container still holds the port, so the new container cannot bind it`}},
		{"no grace period with static port", func(j *Job) {
			j.GracePeriod = intp(0)
			setPort(j, "http", PortMapping{InternalPort: 1, ExternalPort: intp(80)})
		}, nil},
		{"negative grace period", func(j *Job) { j.GracePeriod = intp(-1) }, []string{`gracePeriod -1: must be >= 0`}},
		{"negative kill wait", func(j *Job) { j.SecondsToWaitBeforeKill = intp(-1) }, []string{`secondsToWaitBeforeKill -1: must be >= 0`}},
		{"zero kill wait", func(j *Job) { j.SecondsToWaitBeforeKill = intp(0) }, nil},

		{"memory zero", func(j *Job) { j.Resources = &Resources{Memory: int64p(0)} }, []string{`resources.memory 0: must be > 0`}},
		{"swap negative", func(j *Job) { j.Resources = &Resources{MemorySwap: int64p(-1)} }, []string{`resources.memorySwap -1: must be > 0`}},
		{"cpu shares zero", func(j *Job) { j.Resources = &Resources{CPUShares: int64p(0)} }, []string{`resources.cpuShares 0: must be > 0`}},
		{"swap below memory", func(j *Job) { j.Resources = &Resources{Memory: int64p(10), MemorySwap: int64p(5)} }, []string{`resources.memorySwap 5: must be >= resources.memory 10`}},
		{"swap equals memory", func(j *Job) { j.Resources = &Resources{Memory: int64p(10), MemorySwap: int64p(10)} }, nil},
		{"cpuset single", func(j *Job) { j.Resources = &Resources{CPUSet: "0"} }, nil},
		{"cpuset backwards", func(j *Job) { j.Resources = &Resources{CPUSet: "3-1"} }, []string{`resources.cpuset "3-1"`}},
		{"cpuset words", func(j *Job) { j.Resources = &Resources{CPUSet: "all"} }, []string{`resources.cpuset "all": must list CPUs and ranges like 0-3,5`}},
		{"cpuset empty item", func(j *Job) { j.Resources = &Resources{CPUSet: "0,,1"} }, []string{`resources.cpuset "0,,1"`}},

		{"env empty key", func(j *Job) { j.Env = map[string]string{"": "x"} }, []string{`env key "": must be non-empty`}},
		{"env key with =", func(j *Job) { j.Env = map[string]string{"A=B": "x"} }, []string{`env key "A=B": must not contain =`}},
		{"empty security opt", func(j *Job) { j.SecurityOpt = []string{"x", ""} }, []string{`securityOpt[1]: must be non-empty`}},
		{"rollout parallelism", func(j *Job) { j.RolloutOptions = &RolloutOptions{Parallelism: intp(0)} }, []string{`rolloutOptions.parallelism 0: must be >= 1`}},
		{"rollout timeout", func(j *Job) { j.RolloutOptions = &RolloutOptions{Timeout: int64p(0)} }, []string{`rolloutOptions.timeout 0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := validBaseJob()
			tt.mutate(&j)
			j = withID(t, j)
			assertMessages(t, ValidateJob(&j, testValidateOptions()), tt.want)
		})
	}
}

func TestValidateJobID(t *testing.T) {
	good := withID(t, validBaseJob())
	wrongHash := strings.Repeat("0", 40)
	tests := []struct {
		name string
		id   JobID
		want []string
	}{
		{"correct", good.ID, nil},
		{"no hash", NewJobID("app", "1.0", ""), []string{`id "app:1.0": must be name:version:hash`}},
		{"empty", "", []string{`id "": must be name:version:hash`}},
		{"too many parts", good.ID + ":x", []string{`must be name:version:hash`}},
		{"bad name", NewJobID("a b", "1.0", good.ID.Hash()), []string{`job name "a b" must match [0-9a-zA-Z-_.]+`}},
		{"empty version", NewJobID("app", "", wrongHash), []string{`job version "" must match`}},
		{"wrong hash", NewJobID("app", "1.0", wrongHash), []string{fmt.Sprintf(`hash %q does not match the hash computed from the job's configuration, %q`, wrongHash, good.ID.Hash())}},
		{"other version's hash", NewJobID("app", "2.0", good.ID.Hash()), []string{`does not match the hash computed`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := good
			j.ID = tt.id
			assertMessages(t, ValidateJob(&j, testValidateOptions()), tt.want)
		})
	}
}

func TestValidateJobReportsEveryProblem(t *testing.T) {
	j := Job{ID: "x", Hostname: "A", Ports: map[string]PortMapping{"p": {Protocol: "x", IP: "y"}}}
	msgs := ValidateJob(&j, ValidateOptions{})
	assertMessages(t, msgs, []string{"Invalid id", "Invalid image", "Invalid hostname", "ports.p.protocol", "ports.p.ip"})
}

func setPort(j *Job, name string, p PortMapping) {
	ports := make(map[string]PortMapping, len(j.Ports)+1)
	for k, v := range j.Ports {
		ports[k] = v
	}
	ports[name] = p
	j.Ports = ports
}

func regPorts(names ...string) ServicePorts {
	sp := ServicePorts{Ports: map[string]ServicePortParameters{}}
	for _, n := range names {
		sp.Ports[n] = ServicePortParameters{}
	}
	return sp
}

// assertMessages checks that there is exactly one message per wanted substring, in order.
func assertMessages(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages %q, want %d matching %q", len(got), got, len(want), want)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("message %d = %q, want it to contain %q", i, got[i], want[i])
		}
	}
}
