package agent

import (
	"slices"
	"strings"
	"testing"

	"github.com/helios-go/helios/model"
)

func TestBuildSpec(t *testing.T) {
	ext, mem, swap, shares := 8443, int64(64<<20), int64(128<<20), int64(512)
	j := &model.Job{
		ID:      "web:1:0123456789012345678901234567890123456789",
		Image:   "img:1",
		Command: []string{"/prog", "sleep"},
		Env:     map[string]string{"A": "job", "HELIOS_PORT_fixed": "overridden"},
		Ports: map[string]model.PortMapping{
			"dyn":   {InternalPort: 80},
			"fixed": {InternalPort: 443, ExternalPort: &ext, Protocol: "udp", IP: "127.0.0.1"},
		},
		Volumes:          map[string]string{"/data": "", "/named:ro": "vol1", "/bound:rw": "/tmp/x"},
		Ramdisks:         map[string]string{"/scratch": "rw,size=1m"},
		Resources:        &model.Resources{Memory: &mem, MemorySwap: &swap, CPUShares: &shares, CPUSet: "0"},
		AddCapabilities:  []string{"NET_ADMIN"},
		DropCapabilities: []string{"MKNOD"},
		SecurityOpt:      []string{"no-new-privileges"},
		NetworkMode:      "bridge",
		Hostname:         "box",
		Runtime:          "runc",
		Labels:           map[string]string{"team": "x", LabelHost: "spoof"},
	}
	d := HostDefaults{
		Env:              map[string]string{"A": "agent", "B": "agent"},
		DNS:              []string{"8.8.8.8"},
		Binds:            []Mount{{Type: MountBind, Source: "/etc", Target: "/host-etc", ReadOnly: true}},
		ExtraHosts:       []string{"db:10.0.0.1"},
		SyslogRedirectTo: "logs:514",
	}
	s := buildSpec(specInput{Host: "h1", Job: j, Defaults: d, Ports: map[string]int{"dyn": 20001}})
	wantEnv := []string{"A=job", "B=agent", "HELIOS_PORT_dyn=h1:20001", "HELIOS_PORT_fixed=overridden"}
	if !slices.Equal(s.Env, wantEnv) {
		t.Errorf("env = %v, want %v", s.Env, wantEnv)
	}
	wantPorts := []PortBinding{{Name: "dyn", ContainerPort: 80, HostPort: 20001, Proto: "tcp"}, {Name: "fixed", ContainerPort: 443, HostPort: 8443, Proto: "udp", HostIP: "127.0.0.1"}}
	if !slices.Equal(s.Ports, wantPorts) {
		t.Errorf("ports = %+v", s.Ports)
	}
	wantMounts := []Mount{
		{Type: MountBind, Source: "/etc", Target: "/host-etc", ReadOnly: true},
		{Type: MountBind, Source: "/tmp/x", Target: "/bound"},
		{Type: MountVolume, Source: "", Target: "/data"},
		{Type: MountVolume, Source: "vol1", Target: "/named", ReadOnly: true},
	}
	if !slices.Equal(s.Mounts, wantMounts) {
		t.Errorf("mounts = %+v", s.Mounts)
	}
	if s.Labels[LabelHost] != "h1" || s.Labels["team"] != "x" || s.Labels[LabelJobID] != string(j.ID) {
		t.Errorf("labels = %v", s.Labels)
	}
	if !s.Init || s.Memory != mem || s.MemorySwap != swap || s.CPUShares != shares || s.CPUSet != "0" ||
		s.Hostname != "box" || s.Runtime != "runc" || s.NetworkMode != "bridge" || s.Tmpfs["/scratch"] != "rw,size=1m" ||
		s.SyslogAddress != "udp://logs:514" || s.SyslogTag != string(j.ID) || s.DNS[0] != "8.8.8.8" || s.ExtraHosts[0] != "db:10.0.0.1" {
		t.Errorf("spec = %+v", s)
	}

	// The hash ignores the dynamic port chosen but not the job or agent settings.
	s2 := buildSpec(specInput{Host: "h1", Job: j, Defaults: d, Ports: map[string]int{"dyn": 20999}})
	if specHash(s, j) != specHash(s2, j) {
		t.Error("spec hash depends on the dynamic port")
	}
	d.DNS = []string{"1.1.1.1"}
	s3 := buildSpec(specInput{Host: "h1", Job: j, Defaults: d, Ports: map[string]int{"dyn": 20001}})
	if specHash(s, j) == specHash(s3, j) {
		t.Error("spec hash ignores --dns")
	}
}

func TestContainerName(t *testing.T) {
	n := containerName("my host/1", "web:1.0:0123456789012345678901234567890123456789")
	if !strings.HasPrefix(n, "helios-my_host_1-web_1.0_0123456_") || len(n) != len("helios-my_host_1-web_1.0_0123456_")+8 {
		t.Errorf("name = %q", n)
	}
	if containerName("h", "a:1:0123456789012345678901234567890123456789") == containerName("h", "a:1:0123456789012345678901234567890123456789") {
		t.Error("names not unique")
	}
}
