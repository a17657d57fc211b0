package finding

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// InvalidDocumentCheck is the ID of the findings made for documents that
// could not be read.
const InvalidDocumentCheck = "input/invalid-document"

// InvalidDocument returns the built-in check that reports unreadable
// documents from a snapshot. Evaluate always runs it.
func InvalidDocument() Check {
	return Check{
		ID:       InvalidDocumentCheck,
		Title:    "A manifest document could not be read",
		Severity: High,
		Doc: `A document that is not valid YAML or JSON, repeats a mapping key, gives a field the
wrong type for its kind (a string where Kubernetes wants a number), or still holds a template
placeholder such as {{name}} or ${NAME} cannot be applied as written. shipshape reports it with
its file and line and goes on reading every other document; the report is marked partial because
nothing else could judge what was in it.`,
		Run: func(_ context.Context, s *snapshot.Snapshot) ([]Finding, error) {
			out := make([]Finding, 0, len(s.Invalid))
			for _, inv := range s.Invalid {
				out = append(out, Finding{
					Check:       InvalidDocumentCheck,
					Severity:    High,
					Message:     inv.Reason,
					Remediation: "Fix the document so that it parses as the Kubernetes object it describes; render templates before scanning them.",
					Location:    &Location{Path: inv.Origin.Path, Line: inv.Origin.Line},
				})
			}
			return out, nil
		},
	}
}

// Warning is something that made the report incomplete or less certain.
type Warning struct {
	Source  string `json:"source"`
	Message string `json:"message"`
}

// Summary counts what a report holds.
type Summary struct {
	// Input is "cluster" or "files".
	Input string `json:"input"`
	// Objects is the number of objects read.
	Objects int `json:"objects"`
	// Checks is the number of checks that ran.
	Checks int `json:"checks"`
	// Findings is the number of findings.
	Findings int `json:"findings"`
	// BySeverity counts findings per severity name; every severity is present.
	BySeverity map[string]int `json:"bySeverity"`
	// Exempted is the number of findings exemptions removed from Findings.
	Exempted int `json:"exempted,omitempty"`
}

// Report is the result of running checks over one snapshot.
type Report struct {
	Findings []Finding `json:"findings"`
	// Partial is true when part of the input could not be read; Warnings say which.
	Partial  bool      `json:"partial"`
	Warnings []Warning `json:"warnings,omitempty"`
	Summary  Summary   `json:"summary"`
	// Exempted lists exempted findings when the caller asked to show them
	// (Summary.Exempted counts them either way).
	Exempted []Finding `json:"exempted,omitempty"`
}

// Exempt replaces the report's findings with kept and records the exempted
// ones: their count always, the list itself only when list is true. The
// summary's counts then describe kept alone.
func (r *Report) Exempt(kept, exempted []Finding, list bool) {
	if kept == nil {
		kept = []Finding{}
	}
	Sort(kept)
	r.Findings = kept
	r.Summary.Findings = len(kept)
	r.Summary.BySeverity = map[string]int{}
	for _, sev := range Severities() {
		r.Summary.BySeverity[sev.String()] = 0
	}
	for _, f := range kept {
		r.Summary.BySeverity[f.Severity.String()]++
	}
	r.Summary.Exempted = len(exempted)
	r.Exempted = nil
	if list && len(exempted) > 0 {
		r.Exempted = append([]Finding(nil), exempted...)
		Sort(r.Exempted)
	}
}

// Max returns the highest severity in the report and whether there is any finding.
func (r *Report) Max() (Severity, bool) {
	if len(r.Findings) == 0 {
		return Info, false
	}
	m := Info
	for _, f := range r.Findings {
		m = max(m, f.Severity)
	}
	return m, true
}

// AtOrAbove counts findings at or above the given severity.
func (r *Report) AtOrAbove(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity >= s {
			n++
		}
	}
	return n
}

// NewReport sorts the findings, fills in the summary and records the
// snapshot's gaps as warnings.
func NewReport(s *snapshot.Snapshot, checks int, fs []Finding) Report {
	if fs == nil {
		fs = []Finding{}
	}
	Sort(fs)
	r := Report{
		Findings: fs,
		Partial:  s.Partial(),
		Summary: Summary{
			Input:      string(s.Source),
			Objects:    len(s.Objects),
			Checks:     checks,
			Findings:   len(fs),
			BySeverity: map[string]int{},
		},
	}
	for _, sev := range Severities() {
		r.Summary.BySeverity[sev.String()] = 0
	}
	for _, f := range fs {
		r.Summary.BySeverity[f.Severity.String()]++
	}
	for _, g := range s.Gaps {
		r.Warnings = append(r.Warnings, Warning{Source: g.Source, Message: g.Reason})
	}
	if n := len(s.Invalid); n > 0 {
		r.Warnings = append(r.Warnings, Warning{
			Source:  "files",
			Message: fmt.Sprintf("%d document(s) could not be read; see the %s findings", n, InvalidDocumentCheck),
		})
	}
	return r
}

// Evaluate runs every check over the snapshot, and the invalid-document check
// whether or not it was selected (unread input is never silently dropped), and
// returns one report. A check that fails does not stop the others:
// its error becomes a warning and the report is marked partial.
//
// Checks run concurrently, on up to GOMAXPROCS goroutines (Check.Run must
// not modify the snapshot); their findings and warnings are gathered in
// check order, so the report does not depend on which check finished first.
func Evaluate(ctx context.Context, s *snapshot.Snapshot, checks []Check) Report {
	run := []Check{InvalidDocument()}
	for _, c := range checks {
		if c.ID != InvalidDocumentCheck {
			run = append(run, c)
		}
	}
	type result struct {
		findings []Finding
		warning  *Warning
	}
	results := make([]result, len(run))
	one := func(i int) {
		c := run[i]
		if err := ctx.Err(); err != nil {
			results[i].warning = &Warning{Source: c.ID, Message: "not run: " + err.Error()}
			return
		}
		fs, err := c.Run(ctx, s)
		if err != nil {
			results[i].warning = &Warning{Source: c.ID, Message: "check failed: " + err.Error()}
			return
		}
		results[i].findings = fs
	}
	workers := min(runtime.GOMAXPROCS(0), len(run))
	if workers <= 1 {
		for i := range run {
			one(i)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(run) {
						return
					}
					one(i)
				}
			})
		}
		wg.Wait()
	}
	n := 0
	for _, r := range results {
		n += len(r.findings)
	}
	all := make([]Finding, 0, n)
	var failed []Warning
	for _, r := range results {
		if r.warning != nil {
			failed = append(failed, *r.warning)
			continue
		}
		all = append(all, r.findings...)
	}
	r := NewReport(s, len(run), all)
	if len(failed) > 0 {
		r.Partial = true
		r.Warnings = append(r.Warnings, failed...)
	}
	return r
}

// ObjectOf names a snapshot object as a finding object.
func ObjectOf(o snapshot.Object) *Object {
	return &Object{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
}

// LocationOf returns the object's file position, or nil for live objects.
func LocationOf(o snapshot.Object) *Location {
	if o.Origin.IsZero() {
		return nil
	}
	return &Location{Path: o.Origin.Path, Line: o.Origin.Line}
}
