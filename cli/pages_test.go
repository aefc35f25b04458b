package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-go/helios/model"
)

func TestParsePageSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  string
	}{
		{"", defaultPageSize, ""},
		{" 2 ", 2, ""},
		{"1000", 1000, ""},
		{"0", 0, `invalid HELIOS_CLI_PAGE_SIZE="0": want a whole number from 1 to 1000`},
		{"1001", 0, "from 1 to 1000"},
		{"-3", 0, "from 1 to 1000"},
		{"lots", 0, `"lots"`},
	} {
		got, err := parsePageSize(tc.in)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("parsePageSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("parsePageSize(%q) error %v, want %q", tc.in, err, tc.err)
		}
	}
}

func FuzzParsePageSize(f *testing.F) {
	for _, s := range []string{"", "1", "1000", "0", "x", " 7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parsePageSize(s)
		if err == nil && (n < 1 || n > 1000) {
			t.Fatalf("parsePageSize(%q) = %d", s, n)
		}
		if err != nil && !strings.Contains(err.Error(), envPageSize) {
			t.Fatalf("error %q does not name %s", err, envPageSize)
		}
	})
}

// The statuses of a page are asked for while the next page is read: the fake master holds
// the second page back until the first page's statuses have been asked for, with the query
// that leaves out what the command does without.
func TestStatusesOfAPageAreAskedWhileTheNextPageIsRead(t *testing.T) {
	a, b := model.JobID("a:1:"+h1), model.JobID("b:1:"+h1)
	for _, omit := range []statusParts{{omitJobs: true}, {}, {omitJobs: true, omitTaskStatuses: true}} {
		firstAsked := make(chan struct{})
		var once sync.Once
		var mu sync.Mutex
		var problems []string
		problem := func(format string, args ...any) {
			mu.Lock()
			problems = append(problems, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodGet && r.URL.Path == "/jobs" && r.URL.Query().Get("continue") == "":
				w.Header().Set(model.HeaderContinue, "page2")
				fmt.Fprintf(w, `{%q:{"id":%q,"image":"busybox"}}`, a, a)
			case r.Method == http.MethodGet && r.URL.Path == "/jobs":
				select {
				case <-firstAsked:
				case <-time.After(3 * time.Second):
					problem("page 2 was read before page 1's statuses were asked for")
				}
				fmt.Fprintf(w, `{%q:{"id":%q,"image":"busybox"}}`, b, b)
			case r.Method == http.MethodPost && r.URL.Path == "/jobs/statuses":
				var ids []model.JobID
				if err := json.NewDecoder(r.Body).Decode(&ids); err != nil || len(ids) != 1 {
					problem("statuses asked for %v (%v), want one id a page", ids, err)
				}
				q := r.URL.Query()
				q.Del("user") // every request names the user
				if got, want := q.Encode(), omit.query().Encode(); got != want {
					problem("statuses asked for with %q, want %q for %+v", got, want, omit)
				}
				if len(ids) > 0 && ids[0] == a {
					once.Do(func() { close(firstAsked) })
				}
				out := map[model.JobID]model.JobStatus{}
				for _, id := range ids {
					out[id] = model.JobStatus{Deployments: map[string]model.Deployment{"h1": {JobID: id}}}
				}
				_ = json.NewEncoder(w).Encode(out)
			default:
				http.NotFound(w, r)
			}
		}))
		c := testClient(srv.URL)
		c.pageSize = 1
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		jobs, statuses, err := c.jobsWithStatuses(ctx, "", omit)
		cancel()
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
		if len(jobs) != 2 || jobs[a].ID != a || jobs[b].ID != b {
			t.Errorf("jobs %v, want a and b", jobs)
		}
		if len(statuses) != 2 || statuses[a].Deployments["h1"].JobID != a || statuses[b].Deployments["h1"].JobID != b {
			t.Errorf("statuses %v, want those of a and b", statuses)
		}
	}
}
