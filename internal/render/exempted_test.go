package render

import (
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// TestExempted renders a report with exempted findings: counted in the
// summary line of the text formats, listed in table, markdown, json and
// yaml with their reason, in SARIF as suppressed results with the reason as
// justification, and absent from JUnit failures.
func TestExempted(t *testing.T) {
	r := richReport()
	kept := append([]finding.Finding(nil), r.Findings[1:]...)
	ex := r.Findings[0]
	ex.Exemption = "reviewed by the platform team (exemptions.yaml:4)"
	r.Exempt(kept, []finding.Finding{ex}, true)
	for _, format := range []Format{Table, Markdown, JSON, YAML, SARIF} {
		t.Run(string(format), func(t *testing.T) {
			got := render(t, format, r, Options{Title: "shipshape audit"})
			checkGolden(t, "exempted."+string(format)+".golden", got)
			if !strings.Contains(string(got), "reviewed by the platform team") {
				t.Errorf("%s output does not list the exemption reason", format)
			}
		})
	}
	if got := string(render(t, SARIF, r, Options{})); strings.Count(got, `"suppressions"`) != 1 {
		t.Errorf("SARIF output should carry exactly the one exempted finding as suppressed:\n%s", got)
	}
	if got := string(render(t, Table, r, Options{})); !strings.Contains(got, "; 1 exempted") {
		t.Error("table summary does not count the exempted finding")
	}
	// Counted but not listed (no --show-exempt).
	r.Exempt(kept, []finding.Finding{ex}, false)
	got := string(render(t, Table, r, Options{}))
	if strings.Contains(got, "Exempted:") || !strings.Contains(got, "; 1 exempted") {
		t.Errorf("unlisted exemptions rendered wrongly:\n%s", got)
	}
}
