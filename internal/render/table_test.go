package render

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

func TestTableWidth(t *testing.T) {
	for _, tc := range []struct {
		name  string
		width int
	}{
		{name: "terminal 120", width: 120},
		{name: "terminal 100", width: 100},
		{name: "terminal 80", width: 80},
		{name: "terminal 60", width: 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := string(render(t, Table, richReport(), Options{Checks: testChecks(), Width: tc.width, Title: "shipshape scan"}))
			for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if n := utf8.RuneCountInString(l); n > tc.width && !isLink(l) {
					t.Errorf("line of %d runes is wider than %d:\n%s", n, tc.width, l)
				}
			}
			// Every message is still there, once the wrapping is undone.
			col := messageColumn(t, out)
			for _, f := range richReport().Findings {
				if !strings.Contains(col, noSpace(f.Message)) {
					t.Errorf("message %q is missing or cut from the MESSAGE column %q", oneLine(f.Message), col)
				}
			}
		})
	}
}

// messageColumn returns the text of the table's MESSAGE column, without spaces.
func messageColumn(t *testing.T, out string) string {
	t.Helper()
	var col strings.Builder
	at := -1
	for _, l := range strings.Split(out, "\n") {
		if at < 0 {
			if i := strings.Index(l, "MESSAGE"); i >= 0 && strings.HasPrefix(l, "SEVERITY") {
				at = utf8.RuneCountInString(l[:i])
			}
			continue
		}
		if l == "" {
			break
		}
		if r := []rune(l); len(r) > at {
			col.WriteString(string(r[at:]))
		}
	}
	if at < 0 {
		t.Fatalf("no table header in:\n%s", out)
	}
	return noSpace(col.String())
}

func noSpace(s string) string { return strings.Join(strings.Fields(s), "") }

func TestTableUnlimitedWidth(t *testing.T) {
	out := string(render(t, Table, richReport(), Options{Checks: testChecks()}))
	for _, f := range richReport().Findings {
		if !strings.Contains(out, oneLine(f.Message)+"\n") {
			t.Errorf("message %q is not on one line", oneLine(f.Message))
		}
		if w := f.Where(); w != "" && !strings.Contains(out, w) {
			t.Errorf("where %q is missing", w)
		}
	}
	for _, c := range testChecks() {
		if strings.Contains(out, c.ID[:len(c.ID)-1]+"…") {
			t.Errorf("check %s was truncated without a width", c.ID)
		}
	}
}

// isLink reports whether a line holds only a link, which is never split.
func isLink(line string) bool {
	f := strings.Fields(line)
	return len(f) == 1 && strings.HasPrefix(f[0], "https://")
}

func TestTableTruncates(t *testing.T) {
	r := finding.Report{Findings: []finding.Finding{{
		Check:    "security/a-check-with-a-rather-long-identifier",
		Severity: finding.High,
		Message:  "short",
		Location: &finding.Location{Path: "a/very/deeply/nested/directory/of/manifests/for/production/deployment.yaml", Line: 120},
	}}}
	out := string(render(t, Table, r, Options{Width: 60}))
	if !strings.Contains(out, "…") {
		t.Errorf("nothing truncated at width 60:\n%s", out)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if n := utf8.RuneCountInString(l); n > 60 {
			t.Errorf("line of %d runes is wider than 60:\n%s", n, l)
		}
	}
}

// TestTableTinyWidth checks that a width too small for any layout still
// prints every finding rather than failing.
func TestTableTinyWidth(t *testing.T) {
	for _, width := range []int{1, 10, 20} {
		out := string(render(t, Table, richReport(), Options{Checks: testChecks(), Width: width}))
		if got := strings.Count(out, "\nCRITICAL "); got != 2 {
			t.Errorf("width %d: %d CRITICAL rows, want 2:\n%s", width, got, out)
		}
	}
}

func TestTableColor(t *testing.T) {
	for _, tc := range []struct {
		name      string
		color     bool
		wantColor bool
	}{
		{name: "off by default", color: false, wantColor: false},
		{name: "on when asked", color: true, wantColor: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := string(render(t, Table, partialReport(), Options{Color: tc.color}))
			if got := strings.Contains(out, "\x1b["); got != tc.wantColor {
				t.Errorf("ANSI escapes present = %v, want %v:\n%q", got, tc.wantColor, out)
			}
			if tc.wantColor && !strings.Contains(out, severityColor(finding.Critical)+"CRITICAL"+ansiReset) {
				t.Errorf("critical severity is not coloured:\n%q", out)
			}
		})
	}
	if out := string(render(t, Table, richReport(), Options{})); strings.Contains(out, "\x1b") {
		t.Errorf("zero Options produce colour:\n%q", out)
	}
}

func TestTableSections(t *testing.T) {
	for _, tc := range []struct {
		name        string
		report      finding.Report
		wantLines   []string
		unwantLines []string
	}{
		{
			name:        "no findings",
			report:      emptyReport(),
			wantLines:   []string{"No findings.", "0 findings; 3 objects; 1 check"},
			unwantLines: []string{"SEVERITY", "PARTIAL RESULT:"},
		},
		{
			name:   "partial",
			report: partialReport(),
			wantLines: []string{
				`warning: secrets: forbidden: User "ci" cannot list resource "secrets" in API group "" at the cluster scope`,
				"PARTIAL RESULT: " + partialNotice + ".",
				"2 findings: 1 critical, 1 medium; 230 objects; 2 checks",
			},
			unwantLines: []string{"No findings."},
		},
		{
			name:   "rich",
			report: richReport(),
			wantLines: []string{
				"8 findings: 2 critical, 2 high, 2 medium, 1 low, 1 info; 7 objects; 5 checks",
				"How to fix:",
				"  security/privileged: Set securityContext.privileged to false.",
			},
			unwantLines: []string{"No findings.", "PARTIAL RESULT:"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := string(render(t, Table, tc.report, Options{}))
			lines := strings.Split(out, "\n")
			for _, want := range tc.wantLines {
				if !slicesContainsPrefix(lines, want) {
					t.Errorf("no line starting %q in:\n%s", want, out)
				}
			}
			for _, unwant := range tc.unwantLines {
				if strings.Contains(out, unwant) {
					t.Errorf("unexpected %q in:\n%s", unwant, out)
				}
			}
		})
	}
}

func slicesContainsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		width int
		want  []string
	}{
		{name: "no limit", in: "a b c", width: 0, want: []string{"a b c"}},
		{name: "fits", in: "a b c", width: 5, want: []string{"a b c"}},
		{name: "at spaces", in: "one two three four", width: 9, want: []string{"one two", "three", "four"}},
		{name: "long word split", in: "abcdefghij xy", width: 4, want: []string{"abcd", "efgh", "ij", "xy"}},
		{name: "long path split after a slash", in: "kube-system/Pod/node-debugger", width: 22, want: []string{"kube-system/Pod/", "node-debugger"}},
		{name: "runes not bytes", in: "ääää öööö", width: 4, want: []string{"ääää", "öööö"}},
		{name: "empty", in: "", width: 4, want: []string{""}},
		{name: "links stay whole", in: "see https://example.com/a/long/path now", width: 10, want: []string{"see", "https://example.com/a/long/path", "now"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, wrap(tc.in, tc.width)); diff != "" {
				t.Errorf("wrap(%q, %d) (-want +got):\n%s", tc.in, tc.width, diff)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		width int
		want  string
	}{
		{name: "fits", in: "abc", width: 3, want: "abc"},
		{name: "cut", in: "abcdef", width: 4, want: "abc…"},
		{name: "runes", in: "äöüäöü", width: 3, want: "äö…"},
		{name: "no limit", in: "abc", width: 0, want: "abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := truncate(tc.in, tc.width); got != tc.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
			}
		})
	}
}
