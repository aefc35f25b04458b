package daemon

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode"

	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	ucli "github.com/urfave/cli/v2"
)

// DiscoveryFlags are the service-discovery flags of masters and agents (docs/discovery.md);
// helios-solo has them once, for both.
func DiscoveryFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "domain", Usage: "DNS `DOMAIN` of service discovery: jobs register under it (agent), the master publishes _helios._http.<domain> (empty: off)"},
		&ucli.StringFlag{Name: "advertise-address", Usage: "`ADDRESS` (IP or host name) DNS records point at (default: the host's primary address)"},
		&ucli.StringFlag{Name: "skydns-path", Value: store.SkyDNSPath(""), Usage: "etcd `PATH` of the SkyDNS records CoreDNS's etcd plugin serves (its `path`)"},
	}
}

// Discovery is what the discovery flags say.
type Discovery struct {
	Domain           string // without a trailing dot; "" when discovery is off
	AdvertiseAddress string // "" when not given
	SkyDNSPath       string // cleaned: "/skydns"
}

// ParseDiscovery checks --domain, --advertise-address and --skydns-path.
func ParseDiscovery(domain, advertise, skydnsPath string) (Discovery, error) {
	var d Discovery
	if domain != "" {
		if err := model.ValidateDomain(domain); err != nil {
			return d, fmt.Errorf("--domain: %w", err)
		}
		d.Domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	}
	if advertise != "" {
		if net.ParseIP(advertise) == nil {
			if err := model.ValidateHostName(advertise); err != nil {
				return d, fmt.Errorf("--advertise-address %q is neither an IP address nor a host name: %w", advertise, err)
			}
		}
		d.AdvertiseAddress = advertise
	}
	if strings.Trim(skydnsPath, "/") == "" {
		return d, errors.New("--skydns-path: empty (CoreDNS's default is /skydns)")
	}
	for _, seg := range strings.Split(strings.Trim(skydnsPath, "/"), "/") {
		if seg == "" {
			return d, fmt.Errorf("--skydns-path %q: empty segment (two '/' in a row)", skydnsPath)
		}
		if strings.IndexFunc(seg, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
			return d, fmt.Errorf("--skydns-path %q: blank or unprintable character", skydnsPath)
		}
	}
	d.SkyDNSPath = store.SkyDNSPath(skydnsPath)
	return d, nil
}

// parseDiscoveryFlags is ParseDiscovery of the flags, with the advertised address
// defaulting to the host's primary one when a domain is set.
func parseDiscoveryFlags(c *ucli.Context) (Discovery, error) {
	d, err := ParseDiscovery(c.String("domain"), c.String("advertise-address"), c.String("skydns-path"))
	if err != nil || d.Domain == "" || d.AdvertiseAddress != "" {
		return d, err
	}
	if d.AdvertiseAddress, err = PrimaryAddress(); err != nil {
		return d, fmt.Errorf("--advertise-address not given and %w", err)
	}
	return d, nil
}

// PrimaryAddress is the address this host reaches others from: the source address of
// its default route (asking the kernel which route a UDP "connection" would take; nothing
// is sent), else its first address that is not a loopback one.
func PrimaryAddress() (string, error) {
	if conn, err := net.Dial("udp", "192.0.2.1:9"); err == nil { // TEST-NET-1: never routed anywhere real
		defer conn.Close()
		if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && !a.IP.IsUnspecified() {
			return a.IP.String(), nil
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", fmt.Errorf("list the host's addresses: %w", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String(), nil
		}
	}
	return "", errors.New("the host has no address but loopback ones")
}
