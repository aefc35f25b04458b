package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/helios-go/helios/model"
)

// table writes aligned columns, as the original's tables: left-aligned, padded with spaces.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 4, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cols ...string) {
	for i, c := range cols {
		// A tab or newline inside a cell would break the layout. (Checked first: building
		// a Replacer for every cell of 10,000 rows was a visible share of `helios jobs`.)
		if strings.ContainsAny(c, "\t\n") {
			cols[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// writeJSON prints v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// compactJSON is v on one line, as "Creating job: {...}" shows the job.
func compactJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// humanDuration renders a duration the way the original's host table does: "0 seconds",
// "1 second", "29 minutes", "3 hours", "2 days".
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s", unit)
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d < time.Second:
		return "0 seconds"
	case d < time.Minute:
		return plural(int64(d/time.Second), "second")
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return plural(int64(d/time.Hour), "hour")
	}
	return plural(int64(d/(24*time.Hour)), "day")
}

// historyTimeLayout is the original's `YYYY-MM-dd HH:mm:ss.SSS`.
const historyTimeLayout = "2006-01-02 15:04:05.000"

// shortContainerID is the first 12 characters of a container id, as docker (and the
// manual's history table) shows it; "<none>" when there is none.
func shortContainerID(id string, full bool) string {
	if id == "" {
		return "<none>"
	}
	return truncate(id, 12, full)
}

// statusContainerIDLen is how much of a container id the original's status table shows.
const statusContainerIDLen = 7

// truncate cuts s to n characters unless full.
func truncate(s string, n int, full bool) string {
	if !full && len(s) > n {
		return s[:n]
	}
	return s
}

// jobIDText is the id as tables show it: short unless -f.
func jobIDText(id model.JobID, full bool) string {
	if full || !id.IsFull() {
		return string(id)
	}
	return id.Short()
}

// hostText shortens a DNS host name to its first label unless full; addresses are kept.
func hostText(h string, full bool) string {
	if full || net.ParseIP(strings.TrimSuffix(h, ".")) != nil {
		return h
	}
	if i := strings.IndexByte(h, '.'); i > 0 {
		return h[:i]
	}
	return h
}

// quoteCommand renders a command as the original's jobs table and inspect do: words
// containing white space are wrapped in double quotes, others are shown as they are.
func quoteCommand(cmd []string) string {
	parts := make([]string, len(cmd))
	for i, c := range cmd {
		parts[i] = quoteWord(c)
	}
	return strings.Join(parts, " ")
}

func quoteWord(w string) string {
	if strings.IndexFunc(w, unicode.IsSpace) >= 0 {
		return `"` + w + `"`
	}
	return w
}

// joinMap renders a map as sorted "k=v" pairs joined by sep.
func joinMap(m map[string]string, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, sep)
}

// formatPorts renders task ports as the original's status table does:
// "name=internal:external", sorted by name, separated by spaces.
func formatPorts(ports map[string]model.PortMapping) string {
	parts := make([]string, 0, len(ports))
	for _, n := range sortedKeys(ports) {
		p := ports[n]
		ext := "?"
		if p.ExternalPort != nil {
			ext = fmt.Sprint(*p.ExternalPort)
		}
		parts = append(parts, fmt.Sprintf("%s=%d:%s", n, p.InternalPort, ext))
	}
	return strings.Join(parts, " ")
}

// stateText is the task state, with the throttle reason when the agent holds it back.
func stateText(st model.TaskStatus) string {
	s := string(st.State)
	if st.Throttled != "" && st.Throttled != model.ThrottleNo {
		s += " (" + string(st.Throttled) + ")"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortJobIDs orders jobs by name, then version, then hash, as a user reads the table: a
// plain string sort puts "hc2:1:…" before "hc:1:…", since '2' sorts before ':'.
func sortJobIDs(ids []model.JobID) {
	sort.Slice(ids, func(i, k int) bool {
		a, b := ids[i], ids[k]
		if a.Name() != b.Name() {
			return a.Name() < b.Name()
		}
		if a.Version() != b.Version() {
			return a.Version() < b.Version()
		}
		return a.Hash() < b.Hash()
	})
}
