package render

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/golden"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// fixture is one report with the options it is rendered with.
type fixture struct {
	report finding.Report
	opts   Options
}

func testTool() Tool {
	return Tool{Name: "shipshape", Version: "v0.1.0-test", InformationURI: "https://github.com/shipshape-dev/shipshape"}
}

// testChecks are the checks that "ran" in the fixtures. Some appear in no
// finding, and some findings come from checks that are not listed.
func testChecks() []finding.Check {
	return []finding.Check{
		{
			ID:       "security/privileged",
			Title:    "Containers do not run privileged",
			Severity: finding.Critical,
			DocsURL:  "https://shipshape.dev/checks/security/privileged",
			Doc: `A privileged container has every capability of the node's root user.
Set securityContext.privileged to false and add only the capabilities it needs.`,
		},
		{
			ID:       "certs/expiry",
			Title:    "Certificates are not about to expire",
			Severity: finding.High,
			Doc:      "TLS secrets whose certificate expires within 30 days break clients when it does.",
		},
		finding.InvalidDocument(),
		{
			ID:       "inventory/objects",
			Title:    "What was read",
			Severity: finding.Info,
			Doc:      "Counts the objects read, by kind.",
		},
		{
			ID:       "backup/schedule",
			Title:    "Namespaces with state have a backup schedule",
			Severity: finding.Medium,
			DocsURL:  "https://shipshape.dev/checks/backup/schedule",
			Doc:      "A namespace with persistent volume claims and no backup schedule loses its data with the cluster.",
		},
	}
}

// newReport sorts the findings and fills in the summary like finding.NewReport.
func newReport(input string, objects, checks int, fs []finding.Finding) finding.Report {
	finding.Sort(fs)
	r := finding.Report{
		Findings: fs,
		Summary:  finding.Summary{Input: input, Objects: objects, Checks: checks, Findings: len(fs), BySeverity: map[string]int{}},
	}
	for _, s := range finding.Severities() {
		r.Summary.BySeverity[s.String()] = 0
	}
	for _, f := range fs {
		r.Summary.BySeverity[f.Severity.String()]++
	}
	return r
}

// richReport has every severity; findings with an object only, a location
// only, both and neither; a check that is not in the options; multi-line
// messages and characters that Markdown, XML and URIs must escape.
func richReport() finding.Report {
	return newReport("files", 7, 5, []finding.Finding{
		{
			Check:    "inventory/objects",
			Severity: finding.Info,
			Message:  "Read 7 objects: 3 Deployment, 2 Service, 1 Secret, 1 Namespace",
		},
		{
			Check:       "security/privileged",
			Severity:    finding.Critical,
			Message:     `Container "app" runs privileged`,
			Remediation: "Set securityContext.privileged to false.",
			Object:      &finding.Object{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
			Location:    &finding.Location{Path: "deploy/web.yaml", Line: 12},
		},
		{
			Check:       "security/privileged",
			Severity:    finding.Critical,
			Message:     `Container "debug" runs privileged`,
			Remediation: "Set securityContext.privileged to false.",
			Object:      &finding.Object{APIVersion: "v1", Kind: "Pod", Namespace: "kube-system", Name: "node-debugger"},
		},
		{
			Check:       "certs/expiry",
			Severity:    finding.High,
			Message:     "Certificate for shop.example.com expires in 5 days (2026-12-01) & is used by <ingress> shop/web",
			Remediation: "Renew the certificate, or let cert-manager manage it.",
			Object:      &finding.Object{APIVersion: "v1", Kind: "Secret", Namespace: "shop", Name: "tls-web"},
			Location:    &finding.Location{Path: "deploy/tls.yaml", Line: 1},
		},
		{
			Check:       finding.InvalidDocumentCheck,
			Severity:    finding.High,
			Message:     "yaml: line 7: mapping values are not allowed in this context\n  image: nginx:1.27 | tee\n  ^",
			Remediation: "Fix the document so that it parses as the Kubernetes object it describes; render templates before scanning them.",
			Location:    &finding.Location{Path: "deploy/with space/bad #1.yaml", Line: 7},
		},
		{
			Check:    "upgrade/removed-api",
			Severity: finding.Medium,
			Message:  "extensions/v1beta1 Ingress | removed in Kubernetes 1.22; use networking.k8s.io/v1",
			DocsURL:  "https://kubernetes.io/docs/reference/using-api/deprecation-guide/#ingress-v122",
			Location: &finding.Location{Path: "deploy/legacy.yaml"},
		},
		{
			Check:       "hardening/image-tag",
			Severity:    finding.Low,
			Message:     "Image nginx:latest uses the tag `latest` — pin a *digest* instead of [latest]",
			Remediation: "Pin images by digest: image: nginx@sha256:…",
			Object:      &finding.Object{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web_frontend"},
			Location:    &finding.Location{Path: "deploy/web.yaml", Line: 40},
		},
		{
			Check:    "backup/schedule",
			Severity: finding.Medium,
			Message:  "Namespace has 2 PersistentVolumeClaims and no backup schedule",
			Object:   &finding.Object{APIVersion: "v1", Kind: "Namespace", Name: "legacy"},
		},
	})
}

// partialReport is a live-cluster report that could not read everything.
func partialReport() finding.Report {
	r := newReport("cluster", 230, 2, []finding.Finding{
		{
			Check:    "backup/schedule",
			Severity: finding.Medium,
			Message:  "Namespace has 1 PersistentVolumeClaim and no backup schedule",
			Object:   &finding.Object{APIVersion: "v1", Kind: "Namespace", Name: "payments"},
		},
		{
			Check:    "certs/expiry",
			Severity: finding.Critical,
			Message:  "Certificate for api.example.com expired 2 days ago",
			Object:   &finding.Object{APIVersion: "v1", Kind: "Secret", Namespace: "payments", Name: "api-tls"},
		},
	})
	r.Partial = true
	r.Warnings = []finding.Warning{
		{Source: "secrets", Message: `forbidden: User "ci" cannot list resource "secrets" in API group "" at the cluster scope`},
		{Source: "metrics.k8s.io/v1beta1", Message: "the server is currently unable to handle the request"},
		{Source: "hardening/image-tag", Message: "check failed: context deadline exceeded"},
	}
	return r
}

// emptyReport has no findings at all; Findings is nil on purpose.
func emptyReport() finding.Report {
	r := newReport("files", 3, 1, nil)
	r.Findings = nil
	return r
}

func fixtures() map[string]fixture {
	opts := Options{Checks: testChecks(), Tool: testTool(), Title: "shipshape scan"}
	return map[string]fixture{
		"rich":    {richReport(), opts},
		"partial": {partialReport(), Options{Checks: testChecks()[:2], Tool: testTool(), Title: "shipshape scan"}},
		"empty":   {emptyReport(), Options{Checks: testChecks()[4:], Tool: Tool{Name: "shipshape"}, Title: "shipshape scan"}},
	}
}

func render(t *testing.T, format Format, r finding.Report, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, r, opts); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, name, got)
}

func TestGolden(t *testing.T) {
	for name, fx := range fixtures() {
		for _, format := range formats() {
			t.Run(name+"/"+string(format), func(t *testing.T) {
				checkGolden(t, name+"."+string(format)+".golden", render(t, format, fx.report, fx.opts))
			})
		}
	}
	t.Run("rich-narrow/table", func(t *testing.T) {
		fx := fixtures()["rich"]
		fx.opts.Width = 80
		checkGolden(t, "rich-narrow.table.golden", render(t, Table, fx.report, fx.opts))
	})
}

// TestDeterministic renders each fixture twice, the second time with the
// checks in another order, and expects the same bytes.
func TestDeterministic(t *testing.T) {
	for name, fx := range fixtures() {
		for _, format := range formats() {
			t.Run(name+"/"+string(format), func(t *testing.T) {
				first := render(t, format, fx.report, fx.opts)
				reversed := fx.opts
				reversed.Checks = slices.Clone(fx.opts.Checks)
				slices.Reverse(reversed.Checks)
				second := render(t, format, fx.report, reversed)
				if diff := cmp.Diff(string(first), string(second)); diff != "" {
					t.Errorf("output depends on the order of Options.Checks (-first +second):\n%s", diff)
				}
			})
		}
	}
}

// TestNoMutation checks that rendering leaves the report as it was.
func TestNoMutation(t *testing.T) {
	for _, format := range formats() {
		t.Run(string(format), func(t *testing.T) {
			r := richReport()
			r.Summary.BySeverity = map[string]int{"high": 2}
			want := richReport()
			want.Summary.BySeverity = map[string]int{"high": 2}
			render(t, format, r, Options{Checks: testChecks()})
			if diff := cmp.Diff(want, r); diff != "" {
				t.Errorf("Write changed the report (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    Format
		wantErr bool
	}{
		{name: "table", in: "table", want: Table},
		{name: "json", in: "json", want: JSON},
		{name: "yaml", in: "yaml", want: YAML},
		{name: "markdown", in: "markdown", want: Markdown},
		{name: "sarif", in: "sarif", want: SARIF},
		{name: "junit", in: "junit", want: JUnit},
		{name: "upper case", in: "SARIF", want: SARIF},
		{name: "surrounding space", in: " json ", want: JSON},
		{name: "unknown", in: "html", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFormat(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseFormat(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ParseFormat(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), "table, json, yaml, markdown, sarif, junit") {
				t.Errorf("error %q does not list the formats", err)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	want := []string{"table", "json", "yaml", "markdown", "sarif", "junit"}
	if diff := cmp.Diff(want, Formats()); diff != "" {
		t.Errorf("Formats() (-want +got):\n%s", diff)
	}
	for _, name := range Formats() {
		if _, err := ParseFormat(name); err != nil {
			t.Errorf("ParseFormat(%q) of a listed format: %v", name, err)
		}
	}
	f := Formats()
	f[0] = "changed"
	if Formats()[0] != "table" {
		t.Error("Formats returns shared state")
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, Format("html"), richReport(), Options{}); err == nil {
		t.Fatal("Write with an unknown format: no error")
	}
	if buf.Len() != 0 {
		t.Errorf("Write with an unknown format wrote %q", buf.String())
	}
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteError(t *testing.T) {
	for _, format := range formats() {
		t.Run(string(format), func(t *testing.T) {
			err := Write(failingWriter{}, format, richReport(), Options{})
			if !errors.Is(err, errWrite) {
				t.Errorf("Write to a failing writer = %v, want it to wrap %v", err, errWrite)
			}
		})
	}
}

// TestNoMachineDetails guards determinism: output carries no absolute paths
// and no times that the report does not carry itself.
func TestNoMachineDetails(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for name, fx := range fixtures() {
		for _, format := range formats() {
			t.Run(name+"/"+string(format), func(t *testing.T) {
				out := string(render(t, format, fx.report, fx.opts))
				for _, bad := range []string{wd, os.TempDir(), "time=", `"time"`, "timestamp"} {
					if strings.Contains(out, bad) {
						t.Errorf("output contains %q", bad)
					}
				}
			})
		}
	}
}
