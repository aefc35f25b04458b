package store

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/helios-go/helios/model"
)

// skydnsDefaultPath is where CoreDNS's etcd plugin looks for records unless its `path`
// says otherwise (etcdauth_roles.go has the same default for the roles).
const skydnsDefaultPath = "/skydns"

// SkyDNSPath cleans a --skydns-path: one leading "/", no trailing one ("" is the default).
func SkyDNSPath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return skydnsDefaultPath
	}
	return "/" + p
}

// SkyDNSRecordKey is where the SRV record of one endpoint lives in CoreDNS's SkyDNS layout:
// the owner name's labels reversed under path, then one label naming the instance:
// _website._tcp.example.local from host web1 is /skydns/local/example/_tcp/_website/h<hash>.
// CoreDNS answers a query for the owner name with every key below it, and makes the last
// label part of the SRV target's name when the host is an address, so it must be a valid
// DNS label: a hash of where the endpoint comes from (source: the host, or "master:<name>"),
// the job and the port, so each instance has its own key and republishing it hits the same.
func SkyDNSRecordKey(path, source string, ep model.Endpoint) string {
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(ep.Name, ".")), ".")
	slices.Reverse(labels)
	h := fnv.New64a()
	for _, part := range []string{source, string(ep.JobID), ep.PortName, ep.Name} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%s/%s/h%016x", SkyDNSPath(path), strings.Join(labels, "/"), h.Sum64())
}

// skyDNSRecord is the value CoreDNS's etcd plugin reads (its msg.Service: host is the SRV
// target, or an address it serves as the target's A/AAAA record), plus what Helios keeps to
// know the record as its own. CoreDNS ignores fields it does not know.
type skyDNSRecord struct {
	Host   string        `json:"host"`
	Port   int           `json:"port,omitempty"`
	TTL    uint32        `json:"ttl,omitempty"`
	Helios *recordOrigin `json:"helios,omitempty"`
}

// recordOrigin marks a record as written by the Helios whose key root is Root; only such
// records are ever changed or deleted by the mirror, so hand-made ones (and another Helios
// cluster's) are left alone.
type recordOrigin struct {
	Root   string      `json:"root"`
	Source string      `json:"source"` // host name, or "master:<name>"
	JobID  model.JobID `json:"jobId,omitempty"`
	Tags   []string    `json:"tags,omitempty"`
}

// skyDNSValue is the JSON of an endpoint's record, as the mirror writes it.
func skyDNSValue(root, source string, ep model.Endpoint, ttl uint32) string {
	b, _ := json.Marshal(skyDNSRecord{Host: ep.Host, Port: ep.Port, TTL: ttl, //nolint:errchkjson // plain strings and ints
		Helios: &recordOrigin{Root: root, Source: source, JobID: ep.JobID, Tags: ep.Tags}})
	return string(b)
}

// ownedBy tells whether a record's value says the Helios at root wrote it.
func ownedBy(value []byte, root string) bool {
	var r skyDNSRecord
	return json.Unmarshal(value, &r) == nil && r.Helios != nil && r.Helios.Root == root
}

// MasterSource is the source of a master's own record.
func MasterSource(name string) string { return "master:" + name }

// masterRecords is the record of every live master that has a DNS entry, by key.
func masterRecords(path, root string, ttl uint32, masters []model.MasterInfo) map[string]string {
	out := map[string]string{}
	for _, m := range masters {
		if m.DNS != nil {
			src := MasterSource(m.Name)
			out[SkyDNSRecordKey(path, src, *m.DNS)] = skyDNSValue(root, src, *m.DNS, ttl)
		}
	}
	return out
}

// recordDiff is what turns the records Helios owns (actual, by key) into desired: keys to
// put with their value, and keys to delete. Keys held by a record Helios does not own
// (others: hand-made) are never written.
func recordDiff(desired, actual map[string]string, others map[string]bool) (put map[string]string, del []string) {
	put = map[string]string{}
	for k, v := range desired {
		if others[k] {
			continue
		}
		if cur, ok := actual[k]; !ok || cur != v {
			put[k] = v
		}
	}
	for k := range actual {
		if _, ok := desired[k]; !ok {
			del = append(del, k)
		}
	}
	slices.Sort(del)
	return put, del
}
