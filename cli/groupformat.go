package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/helios-go/helios/model"
)

// This file renders deployment groups and their status as the original's commands print
// them: pure functions of the master's answers, table-tested.

// prettySelector is the original's toPrettyString: "role = web", "tier in [a, b]".
func prettySelector(s model.HostSelector) string {
	op, list := "?", false
	switch s.Operator {
	case model.OpEquals:
		op = "="
	case model.OpNotEquals:
		op = "!="
	case model.OpIn:
		op, list = "in", true
	case model.OpNotIn:
		op, list = "notin", true
	}
	operand := strings.Join(s.Operand, ", ")
	if list {
		operand = "[" + operand + "]"
	}
	return s.Label + " " + op + " " + operand
}

func writeSelectors(w io.Writer, sels []model.HostSelector) {
	fmt.Fprintln(w, "Host selectors:")
	for _, s := range sels {
		fmt.Fprintf(w, "  %s\n", prettySelector(s))
	}
}

// orNull renders an unset value as the original does: null.
func orNull[T any](p *T) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// writeGroup is inspect-deployment-group's text: the original's lines, then ours (auto
// rollback, canary) when set.
func writeGroup(w io.Writer, g model.DeploymentGroup) {
	fmt.Fprintf(w, "Name: %s\n", g.Name)
	writeSelectors(w, g.HostSelectors)
	job := "null"
	if g.JobID != "" {
		job = string(g.JobID)
	}
	fmt.Fprintf(w, "Job: %s\n", job)
	if g.RollingUpdateReason != "" {
		fmt.Fprintf(w, "Rolling update reason: %s\n", g.RollingUpdateReason)
	}
	o := g.RolloutOptions
	if o == nil {
		return
	}
	fmt.Fprintln(w, "Rollout options:")
	fmt.Fprintf(w, "  Migrate: %s\n", orNull(o.Migrate))
	fmt.Fprintf(w, "  Overlap: %s\n", orNull(o.Overlap))
	fmt.Fprintf(w, "  Parallelism: %s\n", orNull(o.Parallelism))
	fmt.Fprintf(w, "  Timeout: %s\n", orNull(o.Timeout))
	if o.Token != nil && *o.Token != "" {
		fmt.Fprintf(w, "  Token: %s\n", *o.Token)
	}
	fmt.Fprintf(w, "  Ignore failures: %s\n", orNull(o.IgnoreFailures))
	if o.AutoRollback != nil {
		fmt.Fprintf(w, "  Auto rollback: %t\n", *o.AutoRollback)
	}
	if o.Canary != nil && *o.Canary > 0 {
		fmt.Fprintf(w, "  Canary: %d\n", *o.Canary)
	}
}

// writeGroupStatus is deployment-group-status's text (and each update of
// watch-deployment-group): the group's lines, then the table of its hosts. Jobs and host
// names are shortened unless full.
func writeGroupStatus(w io.Writer, st *model.DeploymentGroupStatusResponse, full bool) error {
	g := st.DeploymentGroup
	fmt.Fprintf(w, "Name: %s\n", g.Name)
	job := "null"
	if g.JobID != "" {
		job = jobIDText(g.JobID, full)
	}
	fmt.Fprintf(w, "Job Id: %s\n", job)
	fmt.Fprintf(w, "Status: %s\n", st.Status)
	writeSelectors(w, g.HostSelectors)
	if st.Error != "" {
		fmt.Fprintf(w, "Error: %s\n", st.Error)
	}
	if st.RollingBack {
		fmt.Fprintln(w, "Rolling back: yes")
	}
	if st.RolledBack {
		fmt.Fprintln(w, "Rolled back: yes")
	}
	if len(st.RollbackErrors) > 0 {
		fmt.Fprintln(w, "Rollback problems:")
		for _, e := range st.RollbackErrors {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if st.Status == model.GroupRollingOut || st.Status == model.GroupPaused {
		fmt.Fprintf(w, "Progress: %d/%d tasks\n", st.TaskIndex, st.TaskCount)
	}
	fmt.Fprintln(w)
	t := newTable(w, "HOST", "UP-TO-DATE", "JOB", "STATE")
	for _, hs := range st.HostStatuses {
		upToDate, job, state := "", "-", "-"
		if hs.JobID != nil {
			job = jobIDText(*hs.JobID, full)
			if *hs.JobID == g.JobID {
				upToDate = "X"
			}
		}
		if hs.State != nil {
			state = string(*hs.State)
		}
		t.row(hostText(hs.Host, full), upToDate, job, state)
	}
	return t.flush()
}

// watchHeader is what watch-deployment-group prints first, as the original (whose
// column line does not match the table below it).
const watchHeader = "Control-C to stop\nSTATUS               HOST                           STATE\n"

// watchSeparator starts each update of watch-deployment-group: 54 dashes and the UTC time.
func watchSeparator(now time.Time) string {
	return strings.Repeat("-", 54) + " [" + now.UTC().Format("2006-01-02 15:04:05") + " UTC]"
}
