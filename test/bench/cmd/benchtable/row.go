package main

// Row is one figure of the bench run. test/bench writes the same fields.
type Row struct {
	Bench  string  `json:"bench"`
	Name   string  `json:"name"`
	Target string  `json:"target"`
	Figure float64 `json:"figure"`
	Unit   string  `json:"unit"`
	Met    string  `json:"met"` // yes, no, or — (no target)
	Load   string  `json:"load,omitempty"`
}

// noTarget is the met value of a figure without a target.
const noTarget = "—"
