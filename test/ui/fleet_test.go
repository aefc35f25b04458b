package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/helios-go/helios/model"
	"github.com/helios-go/helios/store"
	"github.com/helios-go/helios/test/harness"
	"golang.org/x/sync/errgroup"
)

// writers bounds the concurrent writes that set a fleet up.
const writers = 8

// nodeName is the name of fleet host i; its labels are rack=r<i%10>.
func nodeName(i int) string { return fmt.Sprintf("node-%03d", i) }

// registerUp registers hosts from..to-1 directly in the store, labelled and UP on one lease
// kept alive until the test ends: a big fleet without an agent per host.
func registerUp(t *testing.T, st *store.Store, from, to int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	attached := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		first := true
		_ = st.KeepLeased(ctx, 10*time.Second, nil, func(ctx context.Context, lease store.LeaseID) error {
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(writers)
			for i := from; i < to; i++ {
				g.Go(func() error {
					name := nodeName(i)
					if err := st.RegisterHost(gctx, name, "id-"+name); err != nil {
						return err
					}
					if err := st.PutHostLabels(gctx, name, map[string]string{"rack": fmt.Sprintf("r%d", i%10)}); err != nil {
						return err
					}
					return st.PutUp(gctx, name, lease)
				})
			}
			err := g.Wait()
			if first {
				first = false
				attached <- err
			}
			return err
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	if err := <-attached; err != nil {
		t.Fatalf("register hosts %d to %d: %v", from, to-1, err)
	}
}

// createJobs creates jobs <prefix>-<from>:1 to <prefix>-<to-1>:1 through the API.
func createJobs(t *testing.T, base, prefix string, from, to int) {
	t.Helper()
	var g errgroup.Group
	g.SetLimit(writers)
	for i := from; i < to; i++ {
		g.Go(func() error {
			body, err := json.Marshal(model.Job{ID: model.JobID(fmt.Sprintf("%s-%03d:1", prefix, i)), Image: "busybox"})
			if err != nil {
				return err
			}
			req, err := http.NewRequest("POST", base+"/jobs", bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+adminToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				msg, _ := io.ReadAll(resp.Body)
				return fmt.Errorf("POST /jobs: %d %s", resp.StatusCode, msg)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// rows counts the host rows and the jobs shown.
const (
	hostRows = `document.querySelectorAll("#hosts tbody tr").length`
	jobRows  = `document.querySelectorAll("#jobs > .job").length`
	// shownJobs lists the jobs shown as name:version, without the hash of their full ids.
	shownJobs  = `[...document.querySelectorAll("#jobs > .job")].map((j) => j.dataset.job.split(":").slice(0, 2).join(":"))`
	shownHosts = `[...document.querySelectorAll("#hosts tbody tr")].map((r) => r.dataset.host)`
)

// typeFilter empties the filter box and types s into it, as a user would.
func typeFilter(s string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		eval(`(() => { const f = document.getElementById("filter"); f.value = ""; f.dispatchEvent(new Event("input")); })()`),
		chromedp.SendKeys(chromedp.CSS(`#filter`), s),
	)
}

// TestDashboardBigFleet loads a fleet of 300 hosts and 200 jobs: the page shows 50 of each
// with counts over all, the filter narrows to the right ones, "show more" adds the next
// 50, and a storm of events costs a few requests, not some per event.
func TestDashboardBigFleet(t *testing.T) {
	ctx := browser(t)
	shots := t.TempDir()
	m := harness.StartMaster(t, harness.WithTokens(authTokens))
	registerUp(t, m.Store, 0, 300)
	createJobs(t, m.URL, "app", 0, 200)

	signIn(t, ctx, shots, m.URL, adminToken, `tr[data-host="node-000"]`)
	steps(t, ctx, shots, "loaded",
		until(`document.getElementById("summary").textContent === "300/300 hosts up · 200 jobs · 0 groups"`),
		until(hostRows+` === 50 && `+jobRows+` === 50`),
		// The shown jobs' details arrive: none is left loading.
		until(`!document.getElementById("jobs").textContent.includes("loading")`),
	)
	for expr, want := range map[string]string{
		`document.getElementById("hosts-count").textContent`:   "showing 50 of 300 hosts",
		`document.getElementById("jobs-count").textContent`:    "showing 50 of 200 jobs",
		shownHosts + `.at(-1)`:                                 "node-049",
		shownJobs + `.at(-1)`:                                  "app-049:1",
		`document.querySelector("#jobs > .job p").textContent`: "not deployed",
	} {
		if got := value[string](t, ctx, expr); got != want {
			t.Errorf("%s: %q, want %q", expr, got, want)
		}
	}
	keep(t, screenshot(t, ctx, shots, "fleet"))

	// A name: hosts node-120 to node-129, no job.
	steps(t, ctx, shots, "filter-name", typeFilter("node-12"), until(hostRows+` === 10 && `+jobRows+` === 0`))
	if got := value[string](t, ctx, shownHosts+`.join(" ")`); got != "node-120 node-121 node-122 node-123 node-124 node-125 node-126 node-127 node-128 node-129" {
		t.Errorf("filter node-12 shows hosts %s", got)
	}
	if got := value[string](t, ctx, `document.getElementById("hosts-count").textContent`); got != "showing 10 of 10 hosts (300 in all)" {
		t.Errorf("filtered host count: %q", got)
	}
	// A label: the 30 hosts of rack r7, every one of them labelled so.
	steps(t, ctx, shots, "filter-label", typeFilter("rack=r7"), until(hostRows+` === 30`))
	if n := value[int](t, ctx, `[...document.querySelectorAll("#hosts tbody tr")].filter((r) => r.textContent.includes("rack=r7")).length`); n != 30 {
		t.Errorf("filter rack=r7: %d of the 30 rows show the label", n)
	}
	// A job id: app-010:1 to app-019:1, with their details, and no host.
	steps(t, ctx, shots, "filter-job", typeFilter("APP-01"), until(jobRows+` === 10 && `+hostRows+` === 0`),
		until(`!document.getElementById("jobs").textContent.includes("loading")`))
	if got := value[string](t, ctx, shownJobs+`.join(" ")`); got != "app-010:1 app-011:1 app-012:1 app-013:1 app-014:1 app-015:1 app-016:1 app-017:1 app-018:1 app-019:1" {
		t.Errorf("filter APP-01 shows jobs %s", got)
	}
	if got := value[string](t, ctx, `document.getElementById("summary").textContent`); got != "300/300 hosts up · 200 jobs · 0 groups" {
		t.Errorf("with a filter the summary says %q: it counts everything", got)
	}

	// No filter, then "show more" on each list: 100 rows, the next jobs with details.
	steps(t, ctx, shots, "show-more",
		typeFilter(""),
		until(hostRows+` === 50 && `+jobRows+` === 50`),
		chromedp.Click(chromedp.CSS(`#hosts-more`)),
		chromedp.Click(chromedp.CSS(`#jobs-more`)),
		until(hostRows+` === 100 && `+jobRows+` === 100`),
		until(`!document.getElementById("jobs").textContent.includes("loading")`),
	)
	if got := value[string](t, ctx, shownHosts+`.at(-1)`); got != "node-099" {
		t.Errorf("after show more the last host is %s, want node-099", got)
	}
	screenshot(t, ctx, shots, "fleet-more")

	// A storm: 100 hosts and 100 jobs more, 300 events within a few seconds. The new jobs
	// (api-*) sort first: the 100 shown become them, fetched live.
	steps(t, ctx, shots, "record", eval(recordPage))
	before := value[int](t, ctx, eventsSeen)
	registerUp(t, m.Store, 300, 400)
	createJobs(t, m.URL, "api", 200, 300)
	steps(t, ctx, shots, "storm",
		until(`document.getElementById("summary").textContent === "400/400 hosts up · 300 jobs · 0 groups"`),
		until(shownJobs+`[0] === "api-200:1" && `+shownJobs+`[99] === "api-299:1"`),
		until(`!document.getElementById("jobs").textContent.includes("loading")`),
		until(`document.getElementById("hosts-count").textContent === "showing 100 of 400 hosts"`),
		// 100 HOST_REGISTERED, 100 HOST_UP, 100 JOB_CREATED.
		until(fmt.Sprintf(`%s >= %d`, eventsSeen, before+300)),
	)
	calls := value[[]string](t, ctx, `window.heliosCalls`)
	events := value[int](t, ctx, eventsSeen) - before
	t.Logf("%d events cost %d requests: %v", events, len(calls), calls)
	// One refresh at a time, each at least 100 ms after the first event it handles: a
	// request or two per refresh. Per-event fetching would be hundreds.
	if len(calls) > 60 {
		t.Errorf("300 events cost %d requests, want at most 60; the first: %v", len(calls), calls[:10])
	}
	for _, c := range calls {
		if c == "GET /jobs" || c == "GET /hosts" {
			t.Errorf("the storm reloaded a whole list: %s", c)
		}
	}
}
