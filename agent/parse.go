package agent

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ParseKeyValues reads --labels / --env entries "k=v" (the value may contain '=' and be
// empty; the key may not be empty). A later entry wins.
func ParseKeyValues(entries []string) (map[string]string, error) {
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		k, v, ok := strings.Cut(e, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t\n") {
			return nil, fmt.Errorf("%q: want key=value", e)
		}
		out[k] = v
	}
	return out, nil
}

// ParsePortRange reads "start:end" (end exclusive, 1 <= start < end <= 65536).
func ParsePortRange(s string) (PortRange, error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return PortRange{}, fmt.Errorf("port range %q: want start:end", s)
	}
	start, err1 := strconv.Atoi(a)
	end, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || start < 1 || end <= start || end > 65536 {
		return PortRange{}, fmt.Errorf("port range %q: want start:end with 1 <= start < end <= 65536", s)
	}
	return PortRange{Start: start, End: end}, nil
}

// ParseBind reads --bind "src:dst[:ro|:rw]": both paths absolute.
func ParseBind(s string) (Mount, error) {
	parts := strings.Split(s, ":")
	m := Mount{Type: MountBind}
	switch len(parts) {
	case 2:
	case 3:
		switch parts[2] {
		case "ro":
			m.ReadOnly = true
		case "rw":
		default:
			return Mount{}, fmt.Errorf("bind %q: mode must be ro or rw", s)
		}
	default:
		return Mount{}, fmt.Errorf("bind %q: want /host/path:/container/path[:ro]", s)
	}
	m.Source, m.Target = parts[0], parts[1]
	if !strings.HasPrefix(m.Source, "/") || !strings.HasPrefix(m.Target, "/") || m.Target == "/" {
		return Mount{}, fmt.Errorf("bind %q: both paths must be absolute (and the target not /)", s)
	}
	return m, nil
}

// ParseAddHost reads --add-host "host:ip" (an IPv6 address keeps its colons) and returns it
// in Docker's ExtraHosts form.
func ParseAddHost(s string) (string, error) {
	host, ip, ok := strings.Cut(s, ":")
	if !ok || host == "" || strings.ContainsAny(host, " \t/") {
		return "", fmt.Errorf("add-host %q: want host:ip", s)
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "", fmt.Errorf("add-host %q: %q is not an IP address", s, ip)
	}
	return host + ":" + a.String(), nil
}

// ParseHostPort reads --syslog-redirect-to "host:port".
func ParseHostPort(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return "", fmt.Errorf("%q: want host:port", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: port must be 1-65535", s)
	}
	return net.JoinHostPort(host, port), nil
}

// ParseDNS reads a --dns server address.
func ParseDNS(s string) (string, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", fmt.Errorf("dns %q: not an IP address", s)
	}
	return a.String(), nil
}
