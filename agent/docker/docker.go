package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/helios-go/helios/agent"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

var _ agent.Runtime = (*Docker)(nil)

// Docker talks to one Docker engine.
type Docker struct {
	cli  *client.Client
	host string
	// dockerConfig is the Docker client config file whose "auths" give registry
	// credentials; "" = $DOCKER_CONFIG/config.json or ~/.docker/config.json.
	dockerConfig string
}

// Option configures a Docker.
type Option func(*Docker)

// WithDockerConfig reads registry credentials from the Docker config file at path instead
// of the default ($DOCKER_CONFIG/config.json, else ~/.docker/config.json).
func WithDockerConfig(path string) Option { return func(d *Docker) { d.dockerConfig = path } }

// New connects to the engine at host (e.g. unix:///var/run/docker.sock; "" = the default or
// DOCKER_HOST). The API version is negotiated on the first request, so engines as old as
// API 1.40 (Docker 19.03) work.
func New(host string, opts ...Option) (*Docker, error) {
	copts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		copts = append(copts, client.WithHost(host))
	}
	cli, err := client.New(copts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %q: %w", host, err)
	}
	d := &Docker{cli: cli, host: cli.DaemonHost()}
	for _, o := range opts {
		o(d)
	}
	return d, nil
}

// Close releases the client's connections.
func (d *Docker) Close() error { return d.cli.Close() }

// Client exposes the underlying client for tests and tools.
func (d *Docker) Client() *client.Client { return d.cli }

func wrap(op, id string, err error) error {
	if err == nil {
		return nil
	}
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("%s %s: %w: %w", op, id, agent.ErrNoSuchContainer, err)
	}
	return fmt.Errorf("%s %s: %w", op, id, err)
}

// List implements agent.Runtime.
func (d *Docker) List(ctx context.Context, labels map[string]string) ([]agent.Container, error) {
	f := make(client.Filters)
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	res, err := d.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]agent.Container, 0, len(res.Items))
	for _, s := range res.Items {
		// The summary lacks exit codes and times; inspect each. An agent has few containers.
		c, err := d.Inspect(ctx, s.ID)
		if errors.Is(err, agent.ErrNoSuchContainer) {
			// Removed between list and inspect, or still being created: Docker 20.10 lists a
			// container before its create has registered it for inspect. Either way it is
			// the next listing's; a container being created is its job worker's anyway.
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// Create implements agent.Runtime.
func (d *Docker) Create(ctx context.Context, spec agent.ContainerSpec) (string, error) {
	cfg, hc, err := toDocker(spec)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", spec.Name, err)
	}
	res, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: spec.Name, Config: cfg, HostConfig: hc})
	if cerrdefs.IsNotFound(err) {
		// The engine's only "not found" at create is the image's ("No such image").
		return "", fmt.Errorf("create %s: %w: %w", spec.Name, agent.ErrNoSuchImage, err)
	}
	if err != nil {
		return "", fmt.Errorf("create %s: %w", spec.Name, err)
	}
	return res.ID, nil
}

// toDocker translates the agent's spec into the engine's create request.
func toDocker(spec agent.ContainerSpec) (*container.Config, *container.HostConfig, error) {
	cfg := &container.Config{
		Image:    spec.Image,
		Cmd:      spec.Cmd,
		Env:      spec.Env,
		Labels:   spec.Labels,
		Hostname: spec.Hostname,
	}
	init := spec.Init
	hc := &container.HostConfig{
		NetworkMode: container.NetworkMode(spec.NetworkMode),
		Tmpfs:       spec.Tmpfs,
		CapAdd:      spec.CapAdd,
		CapDrop:     spec.CapDrop,
		SecurityOpt: spec.SecurityOpt,
		Runtime:     spec.Runtime,
		Init:        &init,
		ExtraHosts:  spec.ExtraHosts,
		Resources: container.Resources{
			Memory: spec.Memory, MemorySwap: spec.MemorySwap, CPUShares: spec.CPUShares, CpusetCpus: spec.CPUSet,
		},
	}
	for _, s := range spec.DNS {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, nil, fmt.Errorf("dns server %q: %w", s, err)
		}
		hc.DNS = append(hc.DNS, a)
	}
	if len(spec.Ports) > 0 {
		cfg.ExposedPorts = network.PortSet{}
		hc.PortBindings = network.PortMap{}
	}
	for _, p := range spec.Ports {
		port, ok := network.PortFrom(uint16(p.ContainerPort), network.IPProtocol(p.Proto))
		if !ok {
			return nil, nil, fmt.Errorf("port %d/%s is not valid", p.ContainerPort, p.Proto)
		}
		b := network.PortBinding{HostPort: strconv.Itoa(p.HostPort)}
		if p.HostIP != "" {
			a, err := netip.ParseAddr(p.HostIP)
			if err != nil {
				return nil, nil, fmt.Errorf("port %s ip %q: %w", p.Name, p.HostIP, err)
			}
			b.HostIP = a
		}
		cfg.ExposedPorts[port] = struct{}{}
		hc.PortBindings[port] = append(hc.PortBindings[port], b)
	}
	for _, m := range spec.Mounts {
		switch {
		case m.Type == agent.MountVolume && m.Source == "":
			// An anonymous data volume, as `docker run -v /path` makes.
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[m.Target] = struct{}{}
		case m.Type == agent.MountBind:
			hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeBind, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
		default:
			hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeVolume, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
		}
	}
	if spec.SyslogAddress != "" {
		hc.LogConfig = container.LogConfig{Type: "syslog", Config: map[string]string{
			"syslog-address": spec.SyslogAddress,
			"tag":            spec.SyslogTag,
		}}
	}
	return cfg, hc, nil
}

// Start implements agent.Runtime.
func (d *Docker) Start(ctx context.Context, id string) error {
	_, err := d.cli.ContainerStart(ctx, id, client.ContainerStartOptions{})
	return wrap("start", id, err)
}

// Stop implements agent.Runtime.
func (d *Docker) Stop(ctx context.Context, id string, timeout time.Duration) error {
	secs := int(timeout.Round(time.Second) / time.Second)
	// The engine waits up to timeout before SIGKILL; give the HTTP call that long and more.
	_, err := d.cli.ContainerStop(ctx, id, client.ContainerStopOptions{Signal: "SIGTERM", Timeout: &secs})
	return wrap("stop", id, err)
}

// Remove implements agent.Runtime.
func (d *Docker) Remove(ctx context.Context, id string) error {
	_, err := d.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	return wrap("remove", id, err)
}

// Inspect implements agent.Runtime.
func (d *Docker) Inspect(ctx context.Context, id string) (agent.Container, error) {
	res, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return agent.Container{}, wrap("inspect", id, err)
	}
	r := res.Container
	c := agent.Container{ID: r.ID, Name: strings.TrimPrefix(r.Name, "/")}
	if ns := r.NetworkSettings; ns != nil {
		for _, ep := range ns.Networks {
			if ep != nil && ep.IPAddress.IsValid() {
				c.IPAddress = ep.IPAddress.String()
				break
			}
		}
	}
	c.Created, _ = time.Parse(time.RFC3339Nano, r.Created)
	if r.Config != nil {
		c.Image, c.Labels = r.Config.Image, r.Config.Labels
	}
	if s := r.State; s != nil {
		c.Running = s.Running || s.Restarting || s.Paused
		c.ExitCode = s.ExitCode
		c.StartedAt, _ = time.Parse(time.RFC3339Nano, s.StartedAt)
		c.FinishedAt, _ = time.Parse(time.RFC3339Nano, s.FinishedAt)
	}
	if r.HostConfig != nil {
		c.NetworkMode = string(r.HostConfig.NetworkMode)
		// The configured bindings, not the live ones: they are known while the container is stopped.
		for port, bs := range r.HostConfig.PortBindings {
			for _, b := range bs {
				hp, _ := strconv.Atoi(b.HostPort)
				ip := ""
				if b.HostIP.IsValid() {
					ip = b.HostIP.String()
				}
				c.Ports = append(c.Ports, agent.PortBinding{ContainerPort: int(port.Num()), HostPort: hp, Proto: string(port.Proto()), HostIP: ip})
			}
		}
	}
	return c, nil
}

// Exec implements agent.Runtime.
func (d *Docker) Exec(ctx context.Context, id string, cmd []string) (int, []byte, error) {
	ex, err := d.cli.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return 0, nil, wrap("exec", id, err)
	}
	att, err := d.cli.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return 0, nil, wrap("exec attach", id, err)
	}
	defer att.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, att.Reader); err != nil {
		return 0, nil, fmt.Errorf("exec %s: read output: %w", id, err)
	}
	in, err := d.cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	if err != nil {
		return 0, nil, wrap("exec inspect", id, err)
	}
	return in.ExitCode, out.Bytes(), nil
}

// Wait implements agent.Runtime.
func (d *Docker) Wait(ctx context.Context, id string) (int, error) {
	w := d.cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-w.Result:
		if r.Error != nil && r.Error.Message != "" {
			return int(r.StatusCode), fmt.Errorf("wait %s: %s", id, r.Error.Message)
		}
		return int(r.StatusCode), nil
	case err := <-w.Error:
		return 0, wrap("wait", id, err)
	}
}

// Info implements agent.Runtime.
func (d *Docker) Info(ctx context.Context) (agent.EngineInfo, error) {
	v, err := d.cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return agent.EngineInfo{}, fmt.Errorf("docker version: %w", err)
	}
	info := agent.EngineInfo{Version: v.Version, APIVersion: d.cli.ClientVersion(), Arch: v.Arch, OS: v.Os, Host: d.host}
	for _, c := range v.Components {
		if c.Name == "Engine" {
			info.KernelVersion = c.Details["KernelVersion"]
			info.GitCommit = c.Details["GitCommit"]
			info.GoVersion = c.Details["GoVersion"]
		}
	}
	return info, nil
}
