package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// errNoMasters is the original's message when no master was given by any means.
var errNoMasters = errors.New("no masters specified.  Use the -z or -d option to specify which helios cluster/master to connect to")

// noMastersHint follows errNoMasters: a new user has usually just started helios-solo (make
// run), so the hint names its address and the variable that makes it the default.
const noMastersHint = "helios-solo listens on " + soloURL + ": try `helios -z " + soloURL + " hosts`,\n" +
	"or `export HELIOS_MASTER=" + soloURL + "` to make it the default (or masterEndpoints in ~/.helios/config)."

// soloURL is where helios-solo and helios-master serve the API by default.
const soloURL = "http://127.0.0.1:5801"

// masterSource says where masters come from, in the order the original looks: flags,
// then HELIOS_MASTER, then ~/.helios/config.
type masterSource struct {
	URIs     []string // -z
	Domains  []string // -d, already split at commas
	SRVName  string   // --srv-name ("" = from config or "helios")
	Resolver string   // --resolver or HELIOS_RESOLVER: host:port of a DNS server
}

// fileConfig is ~/.helios/config.
type fileConfig struct {
	MasterEndpoints []string `json:"masterEndpoints"`
	Domains         []string `json:"domains"`
	SRVName         string   `json:"srvName"`
	// Ours: credentials, as the --cacert, --cert, --key and --auth-token flags.
	CACert    string `json:"cacert"`
	Cert      string `json:"cert"`
	Key       string `json:"key"`
	AuthToken string `json:"authToken"`
}

// loadFileConfig reads ~/.helios/config; a missing file is no error.
func loadFileConfig(home string) (*fileConfig, error) {
	if home == "" {
		return nil, nil
	}
	path := filepath.Join(home, ".helios", "config")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var c fileConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &c, nil
}

// completeSource decides where masters come from, in the original's order: -z, then -d,
// then HELIOS_MASTER, then the config file's masterEndpoints, then its domains. Only the
// first source that names any master is used. The SRV name is --srv-name, else the config
// file's srvName (which applies to -d and HELIOS_MASTER domains too), else "helios".
func completeSource(src masterSource, env func(string) string) (masterSource, error) {
	cfg, err := loadFileConfig(env("HOME"))
	if err != nil {
		return src, err
	}
	if src.SRVName == "" && cfg != nil {
		src.SRVName = cfg.SRVName
	}
	if src.SRVName == "" {
		src.SRVName = "helios"
	}
	switch {
	case len(src.URIs) > 0:
		src.Domains = nil
		return src, nil
	case len(src.Domains) > 0:
		return src, nil
	}
	if m := env("HELIOS_MASTER"); m != "" {
		scheme, rest, ok := strings.Cut(m, "://")
		switch {
		case !ok || scheme == "":
			return src, fmt.Errorf("Your environment variable HELIOS_MASTER=%s is not a valid URI with a scheme.", m)
		case scheme == "domain":
			src.Domains = splitDomains([]string{strings.TrimSuffix(rest, "/")})
		case scheme == "http" || scheme == "https":
			src.URIs = []string{m}
		default:
			return src, fmt.Errorf("Your environment variable HELIOS_MASTER=%s does not have a valid scheme.", m)
		}
		return src, nil
	}
	if cfg != nil {
		if len(cfg.MasterEndpoints) > 0 {
			src.URIs = cfg.MasterEndpoints
		} else {
			src.Domains = splitDomains(cfg.Domains)
		}
	}
	if len(src.URIs) == 0 && len(src.Domains) == 0 {
		return src, errNoMasters
	}
	return src, nil
}

// splitDomains splits comma-separated -d values and drops empty ones.
func splitDomains(in []string) []string {
	var out []string
	for _, d := range in {
		for _, p := range strings.Split(d, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// newResolver returns the system resolver, or one that sends every query to addr.
func newResolver(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "53")
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

// resolveMasters turns the source into base URLs: every master of each -z value, with
// every address of its host name (so retries move between them), then each domain's SRV
// targets.
func resolveMasters(ctx context.Context, src masterSource, r *net.Resolver) ([]*url.URL, error) {
	var out []*url.URL
	for _, raw := range src.URIs {
		us, err := parseMasterList(raw)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			out = append(out, expandHost(ctx, u, r)...)
		}
	}
	for _, d := range src.Domains {
		found := false
		for _, scheme := range []string{"http", "https"} {
			lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, srvs, err := r.LookupSRV(lctx, src.SRVName, scheme, d)
			cancel()
			if err != nil {
				continue
			}
			for _, s := range srvs {
				host := strings.TrimSuffix(s.Target, ".")
				u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(int(s.Port)))}
				out = append(out, expandHost(ctx, u, r)...)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("Failed to resolve helios master in %s (srv: %s)", d, src.SRVName)
		}
	}
	return out, nil
}

// parseMasterList reads one -z value: a master URI, or the masters of one cluster as a
// comma-separated list of URIs ("http://a:5801,http://b:5801"). A repeated -z still names
// separate clusters, as in the original; a comma cannot be part of a URI's host, so no
// value the original accepted changes meaning. Requests go to the listed masters in
// turn, moving to the next on a connection failure, 502, 503, or a 504 to a GET.
func parseMasterList(raw string) ([]*url.URL, error) {
	parts := strings.Split(raw, ",")
	out := make([]*url.URL, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("invalid master list %q: an empty entry (want http://a:5801,http://b:5801)", raw)
		}
		u, err := parseMasterURI(p)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// parseMasterURI reads "http://h:p", "https://h:p" or a bare "h:p" (http assumed).
func parseMasterURI(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid master URI %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid master URI %q: want http://host:port or https://host:port", raw)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")}, nil
}

// expandHost resolves an http URL's host name to all of its addresses. HTTPS URLs keep the
// name, which certificate checks need; so does a name that does not resolve now (the
// request then reports the error, and retries, like any other connection failure).
func expandHost(ctx context.Context, u *url.URL, r *net.Resolver) []*url.URL {
	host, port := u.Hostname(), u.Port()
	if u.Scheme != "http" || net.ParseIP(host) != nil {
		return []*url.URL{u}
	}
	if port == "" {
		port = "80"
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := r.LookupIPAddr(lctx, host)
	if err != nil || len(addrs) == 0 {
		return []*url.URL{u}
	}
	out := make([]*url.URL, 0, len(addrs))
	for _, a := range addrs {
		c := *u
		c.Host = net.JoinHostPort(a.IP.String(), port)
		out = append(out, &c)
	}
	return out
}
