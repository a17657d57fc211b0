package render

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

const schemaFile = "testdata/sarif-schema-2.1.0.json"

// sarifSchema compiles the official SARIF 2.1.0 schema, with format
// assertions on so that URIs are checked too.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("read %s: %v", schemaFile, err)
	}
	m, _ := doc.(map[string]any)
	if m["$schema"] != "http://json-schema.org/draft-04/schema#" || m["title"] != "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema" {
		t.Fatalf("%s is not the SARIF 2.1.0 schema: $schema %v, title %v", schemaFile, m["$schema"], m["title"])
	}
	id, _ := m["id"].(string)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compile %s: %v", schemaFile, err)
	}
	return sch
}

func validateSARIF(sch *jsonschema.Schema, b []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return sch.Validate(doc)
}

// TestSARIFSchema validates every SARIF golden file, and fresh output, against
// the official schema.
func TestSARIFSchema(t *testing.T) {
	sch := sarifSchema(t)
	goldens, err := filepath.Glob("testdata/*.sarif.golden")
	if err != nil {
		t.Fatal(err)
	}
	if len(goldens) < len(fixtures()) {
		t.Fatalf("found %d SARIF golden files, want at least %d", len(goldens), len(fixtures()))
	}
	for _, path := range goldens {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := validateSARIF(sch, b); err != nil {
				t.Errorf("%s is not valid SARIF 2.1.0: %v", path, err)
			}
		})
	}
	for name, r := range map[string]finding.Report{
		"zero report":     {},
		"no options":      richReport(),
		"partial no warn": {Partial: true},
		"odd path":        {Findings: []finding.Finding{{Check: "a/b", Message: "m", Location: &finding.Location{Path: "C:x/50% [off]?#.yaml", Line: 3}}}},
		"empty message":   {Findings: []finding.Finding{{Check: "a/b", Object: &finding.Object{Kind: "Pod"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := validateSARIF(sch, render(t, SARIF, r, Options{})); err != nil {
				t.Errorf("not valid SARIF 2.1.0: %v", err)
			}
		})
	}
}

// TestSARIFSchemaRejects proves the validation above can fail: each case
// breaks a valid log in one way the schema forbids.
func TestSARIFSchemaRejects(t *testing.T) {
	sch := sarifSchema(t)
	valid := render(t, SARIF, richReport(), Options{Checks: testChecks(), Tool: testTool()})
	if err := validateSARIF(sch, valid); err != nil {
		t.Fatalf("the starting point is not valid: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(log map[string]any)
	}{
		{"missing version", func(log map[string]any) { delete(log, "version") }},
		{"wrong version", func(log map[string]any) { log["version"] = "2.0.0" }},
		{"missing runs", func(log map[string]any) { delete(log, "runs") }},
		{"unknown top-level property", func(log map[string]any) { log["findings"] = []any{} }},
		{"missing driver name", func(log map[string]any) {
			delete(firstRun(log)["tool"].(map[string]any)["driver"].(map[string]any), "name")
		}},
		{"unknown level", func(log map[string]any) { result(log, 0)["level"] = "critical" }},
		{"result without message", func(log map[string]any) { delete(result(log, 0), "message") }},
		{"negative rule index", func(log map[string]any) { result(log, 0)["ruleIndex"] = -2 }},
		{"start line zero", func(log map[string]any) {
			loc := result(log, 0)["locations"].([]any)[0].(map[string]any)
			loc["physicalLocation"].(map[string]any)["region"].(map[string]any)["startLine"] = 0
		}},
		{"help URI not a URI", func(log map[string]any) {
			rules := firstRun(log)["tool"].(map[string]any)["driver"].(map[string]any)["rules"].([]any)
			rules[0].(map[string]any)["helpUri"] = "not a uri"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log map[string]any
			if err := json.Unmarshal(valid, &log); err != nil {
				t.Fatal(err)
			}
			tc.mutate(log)
			b, err := json.Marshal(log)
			if err != nil {
				t.Fatal(err)
			}
			if err := validateSARIF(sch, b); err == nil {
				t.Errorf("the schema accepted a log with %s", tc.name)
			}
		})
	}
}

func firstRun(log map[string]any) map[string]any { return log["runs"].([]any)[0].(map[string]any) }

func result(log map[string]any, i int) map[string]any {
	return firstRun(log)["results"].([]any)[i].(map[string]any)
}

// The SARIF objects as tests read them back.
type (
	testLog struct {
		Schema  string    `json:"$schema"`
		Version string    `json:"version"`
		Runs    []testRun `json:"runs"`
	}
	testRun struct {
		Tool struct {
			Driver struct {
				Name           string     `json:"name"`
				Version        string     `json:"version"`
				InformationURI string     `json:"informationUri"`
				Rules          []testRule `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful bool `json:"executionSuccessful"`
			Notifications       []struct {
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []testResult `json:"results"`
	}
	testRule struct {
		ID                   string                 `json:"id"`
		Name                 string                 `json:"name"`
		ShortDescription     *struct{ Text string } `json:"shortDescription"`
		HelpURI              string                 `json:"helpUri"`
		DefaultConfiguration struct {
			Level string `json:"level"`
		} `json:"defaultConfiguration"`
		Properties map[string]any `json:"properties"`
	}
	testResult struct {
		RuleID    string `json:"ruleId"`
		RuleIndex int    `json:"ruleIndex"`
		Level     string `json:"level"`
		Message   struct {
			Text string `json:"text"`
		} `json:"message"`
		Locations []struct {
			PhysicalLocation *struct {
				ArtifactLocation struct {
					URI string `json:"uri"`
				} `json:"artifactLocation"`
				Region *struct {
					StartLine int `json:"startLine"`
				} `json:"region"`
			} `json:"physicalLocation"`
			LogicalLocations []struct {
				Name               string `json:"name"`
				FullyQualifiedName string `json:"fullyQualifiedName"`
				Kind               string `json:"kind"`
			} `json:"logicalLocations"`
		} `json:"locations"`
		Properties map[string]any `json:"properties"`
	}
)

func readSARIF(t *testing.T, r finding.Report, opts Options) testRun {
	t.Helper()
	var log testLog
	if err := json.Unmarshal(render(t, SARIF, r, opts), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || log.Schema != sarifSchemaURI || len(log.Runs) != 1 {
		t.Fatalf("version %q, $schema %q, %d runs; want 2.1.0, %s, 1 run", log.Version, log.Schema, len(log.Runs), sarifSchemaURI)
	}
	return log.Runs[0]
}

func TestSARIFRules(t *testing.T) {
	run := readSARIF(t, richReport(), Options{Checks: testChecks(), Tool: testTool()})
	var ids []string
	for i, rule := range run.Tool.Driver.Rules {
		ids = append(ids, rule.ID)
		for _, res := range run.Results {
			if res.RuleID == rule.ID && res.RuleIndex != i {
				t.Errorf("result of %s has ruleIndex %d, want %d", res.RuleID, res.RuleIndex, i)
			}
		}
	}
	// Every check in the options and every check in the findings, sorted.
	want := []string{
		"backup/schedule", "certs/expiry", "hardening/image-tag", "input/invalid-document",
		"inventory/objects", "security/privileged", "upgrade/removed-api",
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("rule IDs (-want +got):\n%s", diff)
	}
	d := run.Tool.Driver
	if d.Name != "shipshape" || d.Version != "v0.1.0-test" || d.InformationURI != "https://github.com/shipshape-dev/shipshape" {
		t.Errorf("driver = %q %q %q", d.Name, d.Version, d.InformationURI)
	}
	for _, tc := range []struct {
		name, id, ruleName, title, helpURI, level, severity, securitySeverity string
	}{
		{"known check", "security/privileged", "SecurityPrivileged", "Containers do not run privileged", "https://shipshape.dev/checks/security/privileged", "error", "critical", "9.5"},
		{"known check without findings", "backup/schedule", "BackupSchedule", "Namespaces with state have a backup schedule", "https://shipshape.dev/checks/backup/schedule", "warning", "medium", "5.5"},
		{"info check", "inventory/objects", "InventoryObjects", "What was read", "", "note", "info", "1.0"},
		{"check only in findings", "hardening/image-tag", "HardeningImageTag", "", "", "note", "low", "3.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := slices.Index(ids, tc.id)
			if i < 0 {
				t.Fatalf("no rule %s", tc.id)
			}
			rule := run.Tool.Driver.Rules[i]
			title := ""
			if rule.ShortDescription != nil {
				title = rule.ShortDescription.Text
			}
			got := []string{rule.Name, title, rule.HelpURI, rule.DefaultConfiguration.Level, rule.Properties["severity"].(string), rule.Properties["security-severity"].(string)}
			want := []string{tc.ruleName, tc.title, tc.helpURI, tc.level, tc.severity, tc.securitySeverity}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("name, title, helpUri, level, severity, security-severity (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSARIFResults(t *testing.T) {
	type loc struct {
		URI       string
		StartLine int
		FQN       string
		Kind      string
	}
	for _, tc := range []struct {
		name      string
		f         finding.Finding
		wantLevel string
		wantLocs  []loc
	}{
		{
			name:      "location and object",
			f:         finding.Finding{Check: "a/b", Severity: finding.Critical, Message: "m", Location: &finding.Location{Path: "deploy/web.yaml", Line: 12}, Object: &finding.Object{Kind: "Deployment", Namespace: "shop", Name: "web"}},
			wantLevel: "error",
			wantLocs:  []loc{{URI: "deploy/web.yaml", StartLine: 12, FQN: "shop/Deployment/web", Kind: "resource"}},
		},
		{
			name:      "location without line",
			f:         finding.Finding{Check: "a/b", Severity: finding.High, Message: "m", Location: &finding.Location{Path: "a.yaml"}},
			wantLevel: "error",
			wantLocs:  []loc{{URI: "a.yaml"}},
		},
		{
			name:      "path with spaces",
			f:         finding.Finding{Check: "a/b", Severity: finding.Medium, Message: "m", Location: &finding.Location{Path: "my dir/50%.yaml", Line: 1}},
			wantLevel: "warning",
			wantLocs:  []loc{{URI: "my%20dir/50%25.yaml", StartLine: 1}},
		},
		{
			name:      "colon in first segment stays relative",
			f:         finding.Finding{Check: "a/b", Severity: finding.Low, Message: "m", Location: &finding.Location{Path: "x:y.yaml", Line: 1}},
			wantLevel: "note",
			wantLocs:  []loc{{URI: "./x:y.yaml", StartLine: 1}},
		},
		{
			name:      "cluster-scoped object only",
			f:         finding.Finding{Check: "a/b", Severity: finding.Info, Message: "m", Object: &finding.Object{APIVersion: "v1", Kind: "Namespace", Name: "legacy"}},
			wantLevel: "note",
			wantLocs:  []loc{{FQN: "Namespace/legacy", Kind: "resource"}},
		},
		{
			name:      "nowhere",
			f:         finding.Finding{Check: "a/b", Severity: finding.Info, Message: "m"},
			wantLevel: "note",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := readSARIF(t, finding.Report{Findings: []finding.Finding{tc.f}}, Options{})
			if len(run.Results) != 1 {
				t.Fatalf("%d results, want 1", len(run.Results))
			}
			res := run.Results[0]
			if res.Level != tc.wantLevel || res.Message.Text != tc.f.Message || res.Properties["severity"] != tc.f.Severity.String() {
				t.Errorf("level %q, message %q, severity %v; want %q, %q, %q", res.Level, res.Message.Text, res.Properties["severity"], tc.wantLevel, tc.f.Message, tc.f.Severity)
			}
			var got []loc
			for _, l := range res.Locations {
				var g loc
				if p := l.PhysicalLocation; p != nil {
					g.URI = p.ArtifactLocation.URI
					if p.Region != nil {
						g.StartLine = p.Region.StartLine
					}
				}
				for _, ll := range l.LogicalLocations {
					g.FQN, g.Kind = ll.FullyQualifiedName, ll.Kind
				}
				got = append(got, g)
			}
			if diff := cmp.Diff(tc.wantLocs, got); diff != "" {
				t.Errorf("locations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSARIFPartial(t *testing.T) {
	run := readSARIF(t, partialReport(), Options{})
	if len(run.Invocations) != 1 || !run.Invocations[0].ExecutionSuccessful {
		t.Fatalf("invocations = %+v, want one that succeeded", run.Invocations)
	}
	var got []string
	for _, n := range run.Invocations[0].Notifications {
		got = append(got, n.Level+" "+n.Message.Text)
	}
	want := []string{
		`warning secrets: forbidden: User "ci" cannot list resource "secrets" in API group "" at the cluster scope`,
		"warning metrics.k8s.io/v1beta1: the server is currently unable to handle the request",
		"warning hardening/image-tag: check failed: context deadline exceeded",
		"warning Partial result: " + partialNotice + ".",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}

	complete := readSARIF(t, richReport(), Options{})
	if n := len(complete.Invocations[0].Notifications); n != 0 {
		t.Errorf("a complete report has %d notifications, want 0", n)
	}
}

func TestUnwrap(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{name: "one line", in: "Counts objects.", want: "Counts objects."},
		{name: "hard-wrapped paragraph", in: "A privileged container\nhas every capability.\n", want: "A privileged container has every capability."},
		{name: "paragraphs", in: "First\nparagraph.\n\n  \nSecond\r\nparagraph.", want: "First paragraph.\n\nSecond paragraph."},
		{name: "list and code", in: "Fix it:\n- drop privileged\n- add capabilities\n\n    kubectl get pods\n    kubectl describe", want: "Fix it:\n- drop privileged\n- add capabilities\n\n    kubectl get pods\n    kubectl describe"},
		{name: "empty", in: " \n ", want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := unwrap(tc.in); got != tc.want {
				t.Errorf("unwrap(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
