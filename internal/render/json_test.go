package render

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestJSONShape pins the keys scripts rely on.
func TestJSONShape(t *testing.T) {
	for _, tc := range []struct {
		name        string
		report      finding.Report
		wantTop     []string
		wantFinding [][]string
	}{
		{
			name:    "rich",
			report:  richReport(),
			wantTop: []string{"findings", "partial", "summary"},
			wantFinding: [][]string{
				{"check", "location", "message", "object", "remediation", "severity"},
				{"check", "message", "object", "remediation", "severity"},
				{"check", "location", "message", "object", "remediation", "severity"},
				{"check", "location", "message", "remediation", "severity"},
				{"check", "message", "object", "severity"},
				{"check", "docsURL", "location", "message", "severity"},
				{"check", "location", "message", "object", "remediation", "severity"},
				{"check", "message", "severity"},
			},
		},
		{
			name:        "partial",
			report:      partialReport(),
			wantTop:     []string{"findings", "partial", "summary", "warnings"},
			wantFinding: [][]string{{"check", "message", "object", "severity"}, {"check", "message", "object", "severity"}},
		},
		{
			name:    "empty with nil findings",
			report:  emptyReport(),
			wantTop: []string{"findings", "partial", "summary"},
		},
		{
			name:    "zero report",
			report:  finding.Report{},
			wantTop: []string{"findings", "partial", "summary"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, JSON, tc.report, Options{})
			if !strings.HasSuffix(string(out), "}\n") || !strings.HasPrefix(string(out), "{\n  \"findings\": [") {
				t.Errorf("not indented by two spaces with a trailing newline:\n%s", out)
			}
			var doc map[string]any
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantTop, keys(doc)); diff != "" {
				t.Errorf("top-level keys (-want +got):\n%s", diff)
			}
			fs, ok := doc["findings"].([]any)
			if !ok {
				t.Fatalf("findings is %T, want an array", doc["findings"])
			}
			var got [][]string
			for _, f := range fs {
				got = append(got, keys(f.(map[string]any)))
			}
			if diff := cmp.Diff(tc.wantFinding, got); diff != "" {
				t.Errorf("finding keys (-want +got):\n%s", diff)
			}
			if _, ok := doc["partial"].(bool); !ok {
				t.Errorf("partial is %T, want a bool", doc["partial"])
			}
			summary, ok := doc["summary"].(map[string]any)
			if !ok {
				t.Fatalf("summary is %T, want an object", doc["summary"])
			}
			if diff := cmp.Diff([]string{"bySeverity", "checks", "findings", "input", "objects"}, keys(summary)); diff != "" {
				t.Errorf("summary keys (-want +got):\n%s", diff)
			}
			by, _ := summary["bySeverity"].(map[string]any)
			if diff := cmp.Diff([]string{"critical", "high", "info", "low", "medium"}, keys(by)); diff != "" {
				t.Errorf("bySeverity keys (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJSONRoundTrip reads the output back into a Report.
func TestJSONRoundTrip(t *testing.T) {
	want := richReport()
	var got finding.Report
	if err := json.Unmarshal(render(t, JSON, want, Options{}), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestJSONNoHTMLEscaping(t *testing.T) {
	out := string(render(t, JSON, richReport(), Options{}))
	if !strings.Contains(out, "& is used by <ingress>") {
		t.Errorf("JSON output escapes HTML characters:\n%s", out)
	}
}

// TestYAMLSameDocument checks that the YAML output is the JSON document.
func TestYAMLSameDocument(t *testing.T) {
	for name, fx := range fixtures() {
		t.Run(name, func(t *testing.T) {
			var fromJSON, fromYAML any
			if err := json.Unmarshal(render(t, JSON, fx.report, fx.opts), &fromJSON); err != nil {
				t.Fatal(err)
			}
			j, err := yaml.YAMLToJSON(render(t, YAML, fx.report, fx.opts))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(j, &fromYAML); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fromJSON, fromYAML); diff != "" {
				t.Errorf("YAML and JSON documents differ (-json +yaml):\n%s", diff)
			}
		})
	}
}
