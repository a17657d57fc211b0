package render

import (
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// cells splits a Markdown table row at the pipes that are not escaped.
func cells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(strings.TrimSuffix(row, "|"), "|")
	var out []string
	var cur strings.Builder
	escaped := false
	for _, r := range row {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '|':
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	return append(out, strings.TrimSpace(cur.String()))
}

func TestMarkdownTable(t *testing.T) {
	r := richReport()
	out := string(render(t, Markdown, r, Options{Checks: testChecks(), Title: "shipshape scan"}))
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| ---") && !strings.HasPrefix(l, "| Severity") {
			rows = append(rows, l)
		}
	}
	if len(rows) != len(r.Findings) {
		t.Fatalf("%d table rows, want one per finding (%d):\n%s", len(rows), len(r.Findings), out)
	}
	for i, row := range rows {
		c := cells(row)
		if len(c) != 4 {
			t.Errorf("row %d has %d cells, want 4: %s", i, len(c), row)
			continue
		}
		if c[0] != r.Findings[i].Severity.String() {
			t.Errorf("row %d severity %q, want %q", i, c[0], r.Findings[i].Severity)
		}
	}
	if !strings.HasPrefix(out, "## shipshape scan\n") {
		t.Errorf("no title:\n%s", out)
	}
}

func TestMarkdownEscaping(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{name: "pipe", in: "a | b", want: `a \| b`},
		{name: "newline", in: "line one\nline two", want: "line one<br>line two"},
		{name: "crlf", in: "one\r\ntwo", want: "one<br>two"},
		{name: "html", in: "<script>&", want: `\<script\>\&`},
		{name: "emphasis and code", in: "*a* _b_ `c` [d]", want: "\\*a\\* \\_b\\_ \\`c\\` \\[d\\]"},
		{name: "backslash", in: `C:\dir`, want: `C:\\dir`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mdCell(tc.in); got != tc.want {
				t.Errorf("mdCell(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMarkdownSections(t *testing.T) {
	for _, tc := range []struct {
		name   string
		report finding.Report
		want   []string
		unwant []string
	}{
		{
			name:   "empty",
			report: emptyReport(),
			want:   []string{"No findings.", "**0 findings; 3 objects; 1 check** (input: files)"},
			unwant: []string{"| Severity", "[!WARNING]"},
		},
		{
			name:   "partial",
			report: partialReport(),
			want:   []string{"> [!WARNING]", "> **Partial result:**", "> - `secrets`: forbidden: User \"ci\""},
			unwant: []string{"No findings."},
		},
		{
			name:   "warnings without partial",
			report: finding.Report{Warnings: []finding.Warning{{Source: "x", Message: "y"}}},
			want:   []string{"> [!NOTE]", "> - `x`: y"},
			unwant: []string{"[!WARNING]"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := string(render(t, Markdown, tc.report, Options{}))
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in:\n%s", w, out)
				}
			}
			for _, u := range tc.unwant {
				if strings.Contains(out, u) {
					t.Errorf("unexpected %q in:\n%s", u, out)
				}
			}
		})
	}
}
