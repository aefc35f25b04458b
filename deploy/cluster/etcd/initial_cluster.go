package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// parseInitialCluster checks --initial-cluster (name=peerURL,...) before etcd sees it, so a
// typo is reported naming the entry rather than as etcd's start-up failure: every entry a
// distinct name and an http(s) URL whose host is an IP (etcd binds it), one scheme for
// all (a member cannot reach some peers in clear and others over TLS), and self among them.
func parseInitialCluster(s, self string) (map[string]string, error) {
	members := map[string]string{}
	scheme := ""
	for _, entry := range strings.Split(s, ",") {
		name, raw, ok := strings.Cut(entry, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--initial-cluster entry %q: want name=http://IP:port", entry)
		}
		if _, dup := members[name]; dup {
			return nil, fmt.Errorf("--initial-cluster names member %q twice", name)
		}
		u, err := url.Parse(raw)
		if err != nil || !isIPURL(u) {
			return nil, fmt.Errorf("--initial-cluster member %q: peer URL %q is not http(s)://IP:port", name, raw)
		}
		if scheme != "" && u.Scheme != scheme {
			return nil, fmt.Errorf("--initial-cluster member %q: peer URL %q is %s, the others %s", name, raw, u.Scheme, scheme)
		}
		scheme = u.Scheme
		members[name] = raw
	}
	if _, ok := members[self]; !ok {
		return nil, fmt.Errorf("--initial-cluster does not list this member %q", self)
	}
	return members, nil
}

// isIPURL tells whether u is http(s)://IP:port with no path beyond "/".
func isIPURL(u *url.URL) bool {
	return (u.Scheme == "http" || u.Scheme == "https") && u.Port() != "" &&
		net.ParseIP(u.Hostname()) != nil && (u.Path == "" || u.Path == "/") &&
		u.User == nil && u.RawQuery == "" && u.Fragment == ""
}
