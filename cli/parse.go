package cli

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/helios-go/helios/model"
)

// parseKV splits "KEY=VALUE" at the first '='. The value may be empty and may hold '=' and
// ','; the key may not be empty. what names the flag in errors ("--env").
func parseKV(what, s string) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("invalid %s argument %q: want KEY=VALUE", what, s)
	}
	if strings.TrimSpace(k) == "" {
		return "", "", fmt.Errorf("invalid %s argument %q: the key before '=' is empty", what, s)
	}
	return k, v, nil
}

// parseKVs parses repeated KEY=VALUE arguments into a map; a later key wins.
func parseKVs(what string, args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(args))
	for _, a := range args {
		k, v, err := parseKV(what, a)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// parsePort parses `-p name=[ip:]internal[:external][/proto]`.
func parsePort(s string) (string, model.PortMapping, error) {
	bad := func(why string) (string, model.PortMapping, error) {
		return "", model.PortMapping{}, fmt.Errorf("invalid port mapping %q: %s (want name=[ip:]internal[:external][/tcp|udp])", s, why)
	}
	name, spec, ok := strings.Cut(s, "=")
	if !ok {
		return bad("missing '='")
	}
	if name == "" {
		return bad("empty port name")
	}
	var pm model.PortMapping
	if i := strings.LastIndexByte(spec, '/'); i >= 0 {
		proto := spec[i+1:]
		if proto != model.ProtocolTCP && proto != model.ProtocolUDP {
			return bad(fmt.Sprintf("protocol %q is neither tcp nor udp", proto))
		}
		pm.Protocol = proto
		spec = spec[:i]
	} else {
		pm.Protocol = model.ProtocolTCP
	}
	parts := strings.Split(spec, ":")
	// An IP is recognised by its dots (IPv4) or, with brackets, as IPv6: [::1]:80:8080.
	if strings.HasPrefix(spec, "[") {
		end := strings.IndexByte(spec, ']')
		if end < 0 || end+1 >= len(spec) || spec[end+1] != ':' {
			return bad("unterminated IPv6 address")
		}
		pm.IP = spec[1:end]
		if net.ParseIP(pm.IP) == nil {
			return bad(fmt.Sprintf("%q is not an IP address", pm.IP))
		}
		parts = strings.Split(spec[end+2:], ":")
	} else if len(parts) == 3 || (len(parts) == 2 && strings.Contains(parts[0], ".")) {
		pm.IP = parts[0]
		if net.ParseIP(pm.IP) == nil {
			return bad(fmt.Sprintf("%q is not an IP address", pm.IP))
		}
		parts = parts[1:]
	}
	if len(parts) < 1 || len(parts) > 2 {
		return bad("too many ':'")
	}
	in, err := parsePortNumber(parts[0])
	if err != nil {
		return bad("internal port: " + err.Error())
	}
	pm.InternalPort = in
	if len(parts) == 2 {
		ext, err := parsePortNumber(parts[1])
		if err != nil {
			return bad("external port: " + err.Error())
		}
		pm.ExternalPort = &ext
	}
	return name, pm, nil
}

func parsePortNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < 0 || n > 65535 {
		return 0, fmt.Errorf("%d is out of range 0-65535", n)
	}
	return n, nil
}

// parsePorts parses every -p argument, refusing a name given twice.
func parsePorts(args []string) (map[string]model.PortMapping, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := make(map[string]model.PortMapping, len(args))
	for _, a := range args {
		name, pm, err := parsePort(a)
		if err != nil {
			return nil, err
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("duplicate port mapping %q: port name %q given twice", a, name)
		}
		out[name] = pm
	}
	return out, nil
}

// registration is one parsed `-r service[/proto][=portName]`; Port is "" when omitted.
type registration struct {
	Service, Proto, Port string
}

// Key is the job's registration map key, "service/proto".
func (r registration) Key() string { return r.Service + "/" + r.Proto }

// parseRegistration parses `-r service[/proto][=portName]`.
func parseRegistration(s string) (registration, error) {
	bad := func(why string) (registration, error) {
		return registration{}, fmt.Errorf("invalid registration %q: %s (want service[/protocol][=portName])", s, why)
	}
	svc, port, hasPort := strings.Cut(s, "=")
	if hasPort && port == "" {
		return bad("empty port name after '='")
	}
	svc, proto, hasProto := strings.Cut(svc, "/")
	if svc == "" {
		return bad("empty service name")
	}
	if strings.ContainsAny(svc, " \t/:") {
		return bad(fmt.Sprintf("service name %q contains white space, ':' or '/'", svc))
	}
	if !hasProto {
		proto = model.ProtocolTCP
	} else if proto == "" || strings.ContainsAny(proto, " \t/:") {
		return bad(fmt.Sprintf("protocol %q is empty or contains white space, ':' or '/'", proto))
	}
	return registration{Service: svc, Proto: proto, Port: port}, nil
}

// buildRegistrations turns -r arguments into the job's registration map. A registration
// without a port name takes the job's only port; with several ports it must name one.
func buildRegistrations(args []string, ports map[string]model.PortMapping) (map[string]model.ServicePorts, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := make(map[string]model.ServicePorts, len(args))
	for _, a := range args {
		r, err := parseRegistration(a)
		if err != nil {
			return nil, err
		}
		port := r.Port
		if port == "" {
			if len(ports) != 1 {
				return nil, fmt.Errorf("invalid registration %q: name the port (service=portName) since the job has %d ports", a, len(ports))
			}
			for name := range ports {
				port = name
			}
		}
		if _, ok := ports[port]; !ok {
			return nil, fmt.Errorf("invalid registration %q: the job has no port named %q", a, port)
		}
		sp := out[r.Key()]
		if sp.Ports == nil {
			sp.Ports = map[string]model.ServicePortParameters{}
		}
		sp.Ports[port] = model.ServicePortParameters{}
		out[r.Key()] = sp
	}
	return out, nil
}

// parseVolume parses `--volume [host:]container[:ro|rw]` into the job's volumes entry:
// key "container[:mode]", value the host path or volume name ("" for a fresh data volume).
func parseVolume(s string) (string, string, error) {
	bad := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("invalid volume %q: %s (want [host-path|volume-name:]container-path[:ro|rw])", s, why)
	}
	parts := strings.Split(s, ":")
	mode := ""
	if n := len(parts); n > 1 && (parts[n-1] == "ro" || parts[n-1] == "rw") {
		mode = parts[n-1]
		parts = parts[:n-1]
	}
	var src, dst string
	switch len(parts) {
	case 1:
		dst = parts[0]
	case 2:
		src, dst = parts[0], parts[1]
		if src == "" {
			return bad("empty source before ':'")
		}
	default:
		return bad("too many ':'")
	}
	if !strings.HasPrefix(dst, "/") {
		return bad(fmt.Sprintf("container path %q is not absolute", dst))
	}
	key := dst
	if mode != "" {
		key += ":" + mode
	}
	return key, src, nil
}

// parseVolumes parses every --volume argument.
func parseVolumes(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(args))
	for _, a := range args {
		k, v, err := parseVolume(a)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// parseHTTPCheck parses `--http-check port:path`; the path must start with '/'.
func parseHTTPCheck(s string) (*model.HealthCheck, error) {
	port, path, ok := strings.Cut(s, ":")
	if !ok || port == "" {
		return nil, fmt.Errorf("invalid http check %q: want portName:/path", s)
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("invalid http check %q: path %q must start with '/'", s, path)
	}
	return &model.HealthCheck{Type: model.HealthCheckHTTP, Port: port, Path: path}, nil
}

// parseRolloutOptions parses repeated `--rollout-options key=value` (keys as in the job's
// rolloutOptions: timeout, parallelism, migrate, overlap, token, ignoreFailures).
func parseRolloutOptions(args []string) (*model.RolloutOptions, error) {
	if len(args) == 0 {
		return nil, nil
	}
	ro := &model.RolloutOptions{}
	for _, a := range args {
		k, v, err := parseKV("--rollout-options", a)
		if err != nil {
			return nil, err
		}
		badVal := func(want string) error {
			return fmt.Errorf("invalid --rollout-options argument %q: %s must be %s", a, k, want)
		}
		switch k {
		case "timeout":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, badVal("a non-negative number of seconds")
			}
			ro.Timeout = &n
		case "parallelism":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, badVal("a positive integer")
			}
			ro.Parallelism = &n
		case "migrate", "overlap", "ignoreFailures":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, badVal("true or false")
			}
			switch k {
			case "migrate":
				ro.Migrate = &b
			case "overlap":
				ro.Overlap = &b
			default:
				ro.IgnoreFailures = &b
			}
		case "token":
			t := v
			ro.Token = &t
		default:
			return nil, fmt.Errorf("invalid --rollout-options argument %q: unknown key %q (want timeout, parallelism, migrate, overlap, token or ignoreFailures)", a, k)
		}
	}
	return ro, nil
}

// parseSelectors checks host selector expressions, naming the bad one.
func parseSelectors(args []string) ([]model.HostSelector, error) {
	return model.ParseHostSelectors(args)
}
