package finding

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func TestParseSeverity(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Severity
		wantErr bool
	}{
		{"info", Info, false},
		{"LOW", Low, false},
		{"Medium", Medium, false},
		{"high", High, false},
		{"critical", Critical, false},
		{"severe", 0, true},
		{"", 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSeverity(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseSeverity(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ParseSeverity(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	if !(Info < Low && Low < Medium && Medium < High && High < Critical) {
		t.Error("severities are not ordered info < low < medium < high < critical")
	}
}

func TestSeverityJSON(t *testing.T) {
	b, err := json.Marshal(map[string]Severity{"s": Critical})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"s":"critical"}` {
		t.Errorf("got %s", b)
	}
	var back map[string]Severity
	if err := json.Unmarshal(b, &back); err != nil || back["s"] != Critical {
		t.Errorf("round trip: %v %v", back, err)
	}
	if _, err := json.Marshal(Severity(9)); err == nil {
		t.Error("out-of-range severity marshalled without error")
	}
}

func TestSortIsDeterministic(t *testing.T) {
	loc := func(p string, l int) *Location { return &Location{Path: p, Line: l} }
	obj := func(ns, n string) *Object { return &Object{Kind: "Pod", Namespace: ns, Name: n} }
	in := []Finding{
		{Check: "a/x", Severity: Low, Message: "m", Location: loc("b.yaml", 1)},
		{Check: "a/x", Severity: Critical, Message: "m", Object: obj("b", "p")},
		{Check: "a/x", Severity: Critical, Message: "m", Location: loc("a.yaml", 10)},
		{Check: "a/x", Severity: Critical, Message: "m", Location: loc("a.yaml", 2)},
		{Check: "a/y", Severity: Critical, Message: "m", Object: obj("a", "p")},
	}
	want := []Finding{in[3], in[2], in[1], in[4], in[0]}
	for i := 0; i < 5; i++ {
		got := append([]Finding(nil), in[i:]...)
		got = append(got, in[:i]...)
		Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("rotation %d: (-want +got)\n%s", i, diff)
		}
	}
}

func TestRegistryRejectsBadChecks(t *testing.T) {
	run := func(context.Context, *snapshot.Snapshot) ([]Finding, error) { return nil, nil }
	good := Check{ID: "x/y", Title: "t", Doc: "d", Run: run}
	for _, tc := range []struct {
		name   string
		checks []Check
		want   string
	}{
		{"bad id", []Check{{ID: "Bad ID", Title: "t", Doc: "d", Run: run}}, "kebab"},
		{"no group", []Check{{ID: "plain", Title: "t", Doc: "d", Run: run}}, "kebab"},
		{"no doc", []Check{{ID: "x/z", Title: "t", Run: run}}, "missing doc"},
		{"no run", []Check{{ID: "x/z", Title: "t", Doc: "d"}}, "missing Run"},
		{"duplicate", []Check{good, good}, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRegistry(tc.checks...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewRegistry error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	reg, err := NewRegistry(Check{ID: "z/a", Title: "t", Doc: "d", Run: run}, good)
	if err != nil {
		t.Fatal(err)
	}
	if ids := []string{reg.Checks()[0].ID, reg.Checks()[1].ID}; ids[0] != "x/y" || ids[1] != "z/a" {
		t.Errorf("checks not sorted by ID: %v", ids)
	}
}

func TestEvaluate(t *testing.T) {
	pod := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p"}}}
	snap := &snapshot.Snapshot{
		Source:  snapshot.SourceFiles,
		Objects: []snapshot.Object{{Unstructured: pod, Origin: snapshot.Origin{Path: "a.yaml", Line: 3, Item: -1}}},
		Invalid: []snapshot.Invalid{{Origin: snapshot.Origin{Path: "b.yaml", Line: 7, Document: 1}, Reason: `mapping key "metadata" already defined at line 4`}},
	}
	perObject := Check{ID: "t/pods", Title: "t", Doc: "d", Severity: Medium,
		Run: func(_ context.Context, s *snapshot.Snapshot) ([]Finding, error) {
			var out []Finding
			for _, o := range s.Objects {
				out = append(out, Finding{Check: "t/pods", Severity: Medium, Message: "pod " + o.GetName(), Object: ObjectOf(o), Location: LocationOf(o)})
			}
			return out, nil
		}}
	broken := Check{ID: "t/broken", Title: "t", Doc: "d",
		Run: func(context.Context, *snapshot.Snapshot) ([]Finding, error) { return nil, errors.New("boom") }}

	r := Evaluate(context.Background(), snap, []Check{perObject, broken, InvalidDocument()})

	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Severity.String()+" "+f.Check+" "+f.Where()+" "+f.Message)
	}
	want := []string{
		`high input/invalid-document b.yaml:7 mapping key "metadata" already defined at line 4`,
		"medium t/pods a.yaml:3 (Pod/p) pod p",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got)\n%s", diff)
	}
	if !r.Partial {
		t.Error("report with an invalid document and a failed check is not partial")
	}
	if r.Summary.Checks != 3 {
		t.Errorf("Summary.Checks = %d, want 3 (the invalid-document check runs once)", r.Summary.Checks)
	}
	wantSev := map[string]int{"info": 0, "low": 0, "medium": 1, "high": 1, "critical": 0}
	if diff := cmp.Diff(wantSev, r.Summary.BySeverity); diff != "" {
		t.Errorf("BySeverity (-want +got)\n%s", diff)
	}
	var sources []string
	for _, w := range r.Warnings {
		sources = append(sources, w.Source)
	}
	if diff := cmp.Diff([]string{"files", "t/broken"}, sources); diff != "" {
		t.Errorf("warning sources (-want +got)\n%s", diff)
	}
	if r.AtOrAbove(High) != 1 || r.AtOrAbove(Medium) != 2 || r.AtOrAbove(Critical) != 0 {
		t.Errorf("AtOrAbove: high=%d medium=%d critical=%d", r.AtOrAbove(High), r.AtOrAbove(Medium), r.AtOrAbove(Critical))
	}
}

func TestEmptyReportHasFindingsArray(t *testing.T) {
	r := Evaluate(context.Background(), &snapshot.Snapshot{Source: snapshot.SourceCluster}, nil)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"findings":[]`) || !strings.Contains(string(b), `"partial":false`) {
		t.Errorf("empty report JSON = %s", b)
	}
}
