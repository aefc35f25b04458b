package cli_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

// TestHostsShowSuspectedRestore: a host whose agent reports a suspected etcd restore says
// so after its STATUS (the first word still Up or Down, so --status and scripts keep
// working), in --json as restoreSuspected, and accept-restore says the agent was holding
// back; another host's row and JSON are the original's.
func TestHostsShowSuspectedRestore(t *testing.T) {
	x := newH(t)
	ctx := context.Background()
	x.ok("register", "held", "id-held")
	x.ok("register", "plain", "id-plain")
	since := time.Now().Add(-5 * time.Minute).UnixMilli()
	report := model.RestoreSuspicion{EtcdGeneration: 30, AgentGeneration: 40, Since: since, HeldActions: 3}
	if err := x.m.Store.PutRestoreSuspected(ctx, "held", report); err != nil {
		t.Fatal(err)
	}

	r := x.ok("hosts")
	downFor := regexp.MustCompile(`Down \d+ \w+`)
	wantText(t, downFor.ReplaceAllString(r.out, "Down"),
		"HOST STATUS DEPLOYED RUNNING CPUS MEM LOAD AVG MEM USAGE OS HELIOS DOCKER LABELS\nheld Down (restore suspected) 0 0\nplain Down 0 0")
	for _, line := range strings.Split(r.out, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 1 && f[1] != "Down" {
			t.Errorf("the STATUS column of %q starts with %q, want Down", line, f[1])
		}
	}
	if got := strings.Fields(x.ok("hosts", "--status", "DOWN", "-q").out); len(got) != 2 {
		t.Errorf("hosts --status DOWN -q = %q, want both hosts", got)
	}

	var hs map[string]model.HostStatus
	decode(t, x.ok("hosts", "--json").out, &hs)
	if got := hs["held"].RestoreSuspected; got == nil || *got != report {
		t.Errorf("hosts --json: held has restoreSuspected %+v, want %+v", got, report)
	}
	if got := hs["plain"].RestoreSuspected; got != nil {
		t.Errorf("hosts --json: plain has restoreSuspected %+v, want none", got)
	}
	var raw map[string]map[string]any
	decode(t, x.ok("hosts", "--json").out, &raw)
	if _, ok := raw["plain"]["restoreSuspected"]; ok {
		t.Error("hosts --json: a host without a report has the restoreSuspected field")
	}

	r = x.ok("accept-restore", "held", "plain")
	wantText(t, r.out, "Accepting the restored desired state of held\n"+
		"held: done (its agent was holding back 3 actions, restore suspected for 5 minutes)\n"+
		"Accepting the restored desired state of plain\nplain: done")
	var resp model.HostAcceptRestoreResponse
	decode(t, x.ok("--json", "accept-restore", "held").out, &resp)
	if resp.RestoreSuspected == nil || *resp.RestoreSuspected != report {
		t.Errorf("accept-restore --json: restoreSuspected %+v, want %+v", resp.RestoreSuspected, report)
	}
}
