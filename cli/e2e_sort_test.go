package cli_test

import (
	"strings"
	"testing"
)

// firstColumns are the first words of each table row after the header.
func firstColumns(out string) []string {
	var col []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if f := strings.Fields(l); len(f) > 0 {
			col = append(col, f[0])
		}
	}
	return col
}

// Tables list jobs by name, then version, then hash: hc:1 before hc2:1, though ':' sorts
// after '2' in a plain string sort of the ids.
func TestStatusAndJobsSortByNameThenVersion(t *testing.T) {
	x := newH(t)
	x.ok("register", "h1", "agent-id-1")
	var ids []string
	for _, job := range []string{"hc2:1", "hc:1", "hc:10"} {
		r := x.ok("create", job, "busybox:latest")
		ids = append(ids, lastLine(r.out))
		x.ok("deploy", job, "h1")
	}
	// Short ids (name:version:hash7) in the wanted order: hc:1, hc:10, hc2:1.
	want := []string{ids[1][:len("hc:1:")+7], ids[2][:len("hc:10:")+7], ids[0][:len("hc2:1:")+7]}
	for _, cmd := range [][]string{{"status"}, {"jobs"}} {
		r := x.ok(cmd...)
		if got := firstColumns(r.out); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("helios %s rows %v, want %v\n%s", cmd[0], got, want, r.out)
		}
	}
}
