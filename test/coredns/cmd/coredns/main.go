// Command coredns is a minimal CoreDNS for Helios's discovery tests: it links only the etcd
// plugin (the SkyDNS layout Helios writes) plus log and errors, so it builds quickly and serves
// exactly what a stock CoreDNS with the etcd plugin serves.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/etcd"
	_ "github.com/coredns/coredns/plugin/log"
)

// directives lists the linked plugins in CoreDNS's own order (core/dnsserver/zdirectives.go):
// errors and log wrap every request, etcd answers it.
var directives = []string{"errors", "log", "etcd"}

func main() {
	dnsserver.Directives = directives
	coremain.Run()
}
