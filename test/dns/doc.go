// Package dns tests service discovery end to end: the records Helios mirrors to SkyDNS,
// served by a real CoreDNS (test/coredns) and queried over DNS (docs/discovery.md).
package dns
