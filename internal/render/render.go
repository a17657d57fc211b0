// Package render prints a finding.Report in the formats people and tools
// read: a terminal table, JSON, YAML, Markdown, SARIF 2.1.0 and JUnit XML.
//
// Renderers print and never judge: they must not drop, add, re-rank or
// re-sort findings, decide exit codes, or look at the terminal themselves
// (colour and width come from the caller in Options). Output is
// deterministic: the same Report and Options give the same bytes, with no
// wall-clock times and no paths other than those in the report.
package render

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// Format names an output format.
type Format string

// The output formats.
const (
	// Table is the human-readable terminal output.
	Table Format = "table"
	// JSON is the Report as JSON; its keys are a contract scripts rely on.
	JSON Format = "json"
	// YAML is the same document as JSON, in YAML.
	YAML Format = "yaml"
	// Markdown is a report for pull-request comments and CI step summaries.
	Markdown Format = "markdown"
	// SARIF is SARIF 2.1.0, for code-scanning tools.
	SARIF Format = "sarif"
	// JUnit is JUnit XML with one test case per check, for CI test reports.
	JUnit Format = "junit"
)

// formats lists every format in the order Formats reports them.
func formats() []Format { return []Format{Table, JSON, YAML, Markdown, SARIF, JUnit} }

// Formats returns the names of every format, for flag help and completion.
func Formats() []string {
	out := make([]string, 0, len(formats()))
	for _, f := range formats() {
		out = append(out, string(f))
	}
	return out
}

// ParseFormat reads a format name, case-insensitively.
func ParseFormat(name string) (Format, error) {
	for _, f := range formats() {
		if strings.EqualFold(strings.TrimSpace(name), string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (want one of %s)", name, strings.Join(Formats(), ", "))
}

// String returns the format's name.
func (f Format) String() string { return string(f) }

// Tool describes the program that produced the report.
type Tool struct {
	// Name is the tool's name, e.g. "shipshape".
	Name string
	// Version is the tool's version; it may be empty.
	Version string
	// InformationURI points to the tool's home page; it may be empty.
	InformationURI string
}

// Options tune the output. The zero value is valid.
type Options struct {
	// Checks describes the checks that ran: titles, docs and links for SARIF
	// rules, JUnit test cases and Markdown. It may be empty; checks that
	// appear only in findings are still rendered, with less metadata.
	Checks []finding.Check
	// Tool names the program in SARIF and JUnit output.
	Tool Tool
	// Color turns on ANSI colours in the table format.
	Color bool
	// Width is the terminal width the table must fit; 0 means no limit.
	Width int
	// Title heads the output, e.g. "shipshape scan".
	Title string
	// FailAt is the lowest severity that fails a JUnit test case, so that a
	// CI test report agrees with --fail-on; findings below it are listed in the
	// test case's system-out. The zero value, info, fails on any finding.
	// NeverFail turns failures off altogether (--fail-on none).
	FailAt    finding.Severity
	NeverFail bool
}

// Write renders the report in the given format to w. A rendering error
// leaves w untouched: the output is written only once it is complete, or, for
// JSON, streamed once everything that could fail to encode has been checked.
func Write(w io.Writer, format Format, r finding.Report, opts Options) error {
	if format == JSON {
		if err := writeJSON(w, r); err != nil {
			return fmt.Errorf("render %s: %w", format, err)
		}
		return nil
	}
	var buf bytes.Buffer
	var err error
	switch format {
	case Table:
		err = writeTable(&buf, r, opts)
	case YAML:
		err = writeYAML(&buf, r)
	case Markdown:
		err = writeMarkdown(&buf, r, opts)
	case SARIF:
		err = writeSARIF(&buf, r, opts)
	case JUnit:
		err = writeJUnit(&buf, r, opts)
	default:
		return fmt.Errorf("render: unknown output format %q", string(format))
	}
	if err != nil {
		return fmt.Errorf("render %s: %w", format, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("render %s: %w", format, err)
	}
	return nil
}

// checkInfo is what renderers know about one check ID.
type checkInfo struct {
	ID       string
	Title    string
	Doc      string
	DocsURL  string
	Severity finding.Severity
	// Known is true when the check came from Options.Checks.
	Known bool
	// Findings are the report's findings of this check, in report order.
	Findings []finding.Finding
}

// checkInfos merges Options.Checks with the check IDs seen in findings and
// returns one entry per ID, sorted by ID. A check that is not in
// Options.Checks takes the highest severity of its findings as its own.
func checkInfos(r finding.Report, checks []finding.Check) []*checkInfo {
	byID := map[string]*checkInfo{}
	var out []*checkInfo
	for _, c := range checks {
		if _, dup := byID[c.ID]; dup {
			continue
		}
		ci := &checkInfo{ID: c.ID, Title: c.Title, Doc: c.Doc, DocsURL: c.DocsURL, Severity: c.Severity, Known: true}
		byID[c.ID] = ci
		out = append(out, ci)
	}
	for _, f := range r.Findings {
		ci, ok := byID[f.Check]
		if !ok {
			ci = &checkInfo{ID: f.Check, Severity: f.Severity}
			byID[f.Check] = ci
			out = append(out, ci)
		}
		if !ci.Known {
			ci.Severity = max(ci.Severity, f.Severity)
		}
		ci.Findings = append(ci.Findings, f)
	}
	slices.SortFunc(out, func(a, b *checkInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// counts returns the number of findings per severity: the report's summary
// when it has one, else a count of the findings.
func counts(r finding.Report) map[finding.Severity]int {
	out := map[finding.Severity]int{}
	if r.Summary.BySeverity != nil {
		for _, s := range finding.Severities() {
			out[s] = r.Summary.BySeverity[s.String()]
		}
		return out
	}
	for _, f := range r.Findings {
		out[f.Severity]++
	}
	return out
}

// total returns the number of findings: the summary's count when set, else
// the length of the findings.
func total(r finding.Report) int {
	if r.Summary.Findings > 0 || r.Summary.BySeverity != nil {
		return r.Summary.Findings
	}
	return len(r.Findings)
}

// plural formats n with a noun, adding an "s" unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// summaryLine is the one-line summary shared by the text formats, e.g.
// "12 findings: 1 critical, 3 high; 230 objects; 5 checks".
func summaryLine(r finding.Report) string {
	var b strings.Builder
	b.WriteString(plural(total(r), "finding"))
	c := counts(r)
	var parts []string
	sevs := finding.Severities()
	for i := len(sevs) - 1; i >= 0; i-- {
		if n := c[sevs[i]]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, sevs[i]))
		}
	}
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, ", "))
	}
	b.WriteString("; " + plural(r.Summary.Objects, "object"))
	b.WriteString("; " + plural(r.Summary.Checks, "check"))
	if n := r.Summary.Exempted; n > 0 {
		fmt.Fprintf(&b, "; %d exempted", n)
	}
	return b.String()
}

// inputLine describes what was read, e.g. "230 objects from files, 5 checks".
func inputLine(r finding.Report) string {
	s := plural(r.Summary.Objects, "object")
	if r.Summary.Input != "" {
		s += " from " + r.Summary.Input
	}
	return s + ", " + plural(r.Summary.Checks, "check")
}

// partialNotice is the sentence every format uses for a partial report.
const partialNotice = "part of the input could not be read; findings may be incomplete"

// group returns the part of a check ID before the first '/'.
func group(id string) string {
	g, _, _ := strings.Cut(id, "/")
	return g
}

// oneLine collapses every run of white space, newlines included, into one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
