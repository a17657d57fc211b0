package render

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// The JUnit document as tests read it back.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Errors     int    `xml:"errors,attr"`
		Skipped    int    `xml:"skipped,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases     []junitCase `xml:"testcase"`
		SystemErr *string     `xml:"system-err"`
	}
	junitCase struct {
		Classname string `xml:"classname,attr"`
		Name      string `xml:"name,attr"`
		Failures  []struct {
			Message string `xml:"message,attr"`
			Type    string `xml:"type,attr"`
			Body    string `xml:",chardata"`
		} `xml:"failure"`
		SystemOut *string `xml:"system-out"`
	}
)

func readJUnit(t *testing.T, r finding.Report, opts Options) junitSuites {
	t.Helper()
	out := render(t, JUnit, r, opts)
	if !strings.HasPrefix(string(out), xml.Header) {
		t.Errorf("no XML declaration:\n%s", out)
	}
	var doc junitSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, out)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d test suites, want 1", len(doc.Suites))
	}
	return doc
}

func TestJUnitCounts(t *testing.T) {
	for _, tc := range []struct {
		name          string
		report        finding.Report
		checks        []finding.Check
		wantTests     int
		wantFailures  int
		wantFailed    map[string]string // check ID -> failure message
		wantPartial   string
		wantSystemErr bool
	}{
		{
			name:         "rich",
			report:       richReport(),
			checks:       testChecks(),
			wantTests:    7, // five checks in the options plus two seen only in findings
			wantFailures: 7, // every check that found something, info included
			wantFailed: map[string]string{
				"inventory/objects":      "1 finding, highest severity info",
				"security/privileged":    "2 findings, highest severity critical",
				"certs/expiry":           "1 finding, highest severity high",
				"input/invalid-document": "1 finding, highest severity high",
				"upgrade/removed-api":    "1 finding, highest severity medium",
				"backup/schedule":        "1 finding, highest severity medium",
				"hardening/image-tag":    "1 finding, highest severity low",
			},
			wantPartial: "false",
		},
		{
			name:          "partial",
			report:        partialReport(),
			checks:        testChecks()[:2],
			wantTests:     3,
			wantFailures:  2,
			wantFailed:    map[string]string{"backup/schedule": "1 finding, highest severity medium", "certs/expiry": "1 finding, highest severity critical"},
			wantPartial:   "true",
			wantSystemErr: true,
		},
		{
			name:        "empty",
			report:      emptyReport(),
			checks:      testChecks(),
			wantTests:   5,
			wantFailed:  map[string]string{},
			wantPartial: "false",
		},
		{
			name:        "nothing at all",
			wantFailed:  map[string]string{},
			wantPartial: "false",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := readJUnit(t, tc.report, Options{Checks: tc.checks, Title: "shipshape scan"})
			s := doc.Suites[0]
			if doc.Name != "shipshape scan" || s.Name != "shipshape" {
				t.Errorf("names %q / %q, want shipshape scan / shipshape", doc.Name, s.Name)
			}
			got := []int{doc.Tests, doc.Failures, doc.Errors, s.Tests, s.Failures, s.Errors, s.Skipped, len(s.Cases)}
			want := []int{tc.wantTests, tc.wantFailures, 0, tc.wantTests, tc.wantFailures, 0, 0, tc.wantTests}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tests, failures, errors of suites, suite, skipped, cases (-want +got):\n%s", diff)
			}
			failed := map[string]string{}
			for _, c := range s.Cases {
				if c.Classname != group(c.Name) {
					t.Errorf("test case %s has classname %q, want %q", c.Name, c.Classname, group(c.Name))
				}
				if len(c.Failures) > 1 {
					t.Errorf("test case %s has %d failures, want at most 1", c.Name, len(c.Failures))
				}
				for _, f := range c.Failures {
					failed[c.Name] = f.Message
				}
			}
			if diff := cmp.Diff(tc.wantFailed, failed); diff != "" {
				t.Errorf("failed test cases (-want +got):\n%s", diff)
			}
			partial := ""
			for _, p := range s.Properties {
				if p.Name == "partial" {
					partial = p.Value
				}
			}
			if partial != tc.wantPartial {
				t.Errorf("property partial = %q, want %q", partial, tc.wantPartial)
			}
			if (s.SystemErr != nil) != tc.wantSystemErr {
				t.Errorf("system-err present = %v, want %v", s.SystemErr != nil, tc.wantSystemErr)
			}
		})
	}
}

func TestJUnitFailureBody(t *testing.T) {
	doc := readJUnit(t, richReport(), Options{})
	bodies := map[string]string{}
	for _, c := range doc.Suites[0].Cases {
		for _, f := range c.Failures {
			bodies[c.Name] = f.Body
		}
	}
	for _, tc := range []struct {
		name, check, want string
	}{
		{
			name:  "one line per finding",
			check: "security/privileged",
			want: "critical deploy/web.yaml:12 (shop/Deployment/web): Container \"app\" runs privileged\n" +
				"critical kube-system/Pod/node-debugger: Container \"debug\" runs privileged",
		},
		{
			name:  "multi-line message on one line",
			check: "input/invalid-document",
			want:  "high deploy/with space/bad #1.yaml:7: yaml: line 7: mapping values are not allowed in this context image: nginx:1.27 | tee ^",
		},
		{
			name:  "markup characters survive",
			check: "certs/expiry",
			want:  "high deploy/tls.yaml:1 (shop/Secret/tls-web): Certificate for shop.example.com expires in 5 days (2026-12-01) & is used by <ingress> shop/web",
		},
		{
			name:  "no position",
			check: "inventory/objects",
			want:  "info: Read 7 objects: 3 Deployment, 2 Service, 1 Secret, 1 Namespace",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bodies[tc.check]; got != tc.want {
				t.Errorf("failure body of %s:\n got %q\nwant %q", tc.check, got, tc.want)
			}
		})
	}
}

func TestJUnitSystemErr(t *testing.T) {
	doc := readJUnit(t, partialReport(), Options{})
	got := strings.Split(*doc.Suites[0].SystemErr, "\n")
	want := []string{
		`warning: secrets: forbidden: User "ci" cannot list resource "secrets" in API group "" at the cluster scope`,
		"warning: metrics.k8s.io/v1beta1: the server is currently unable to handle the request",
		"warning: hardening/image-tag: check failed: context deadline exceeded",
		"PARTIAL RESULT: " + partialNotice + ".",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("system-err lines (-want +got):\n%s", diff)
	}
}

// TestJUnitInvalidCharacters checks that characters XML cannot hold do not
// make the document invalid.
func TestJUnitInvalidCharacters(t *testing.T) {
	r := finding.Report{Findings: []finding.Finding{{Check: "a/b", Severity: finding.High, Message: "bell\a and nul\x00 and \"quotes\" ]]>"}}}
	doc := readJUnit(t, r, Options{})
	body := doc.Suites[0].Cases[0].Failures[0].Body
	if !strings.Contains(body, `"quotes" ]]>`) {
		t.Errorf("body %q lost text", body)
	}
}

// TestJUnitFailAt checks that only findings at or above the threshold fail
// their test case, so a CI test report agrees with --fail-on.
func TestJUnitFailAt(t *testing.T) {
	for _, tc := range []struct {
		name         string
		opts         Options
		wantFailures int
	}{
		{"any finding fails by default", Options{}, 7},
		{"high and above", Options{FailAt: finding.High}, 3},
		{"critical only", Options{FailAt: finding.Critical}, 1},
		{"never", Options{NeverFail: true}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := readJUnit(t, richReport(), tc.opts)
			s := doc.Suites[0]
			if s.Failures != tc.wantFailures || doc.Failures != tc.wantFailures {
				t.Errorf("failures = %d (suites %d), want %d", s.Failures, doc.Failures, tc.wantFailures)
			}
			failing, listed := 0, 0
			for _, c := range s.Cases {
				if len(c.Failures) > 0 {
					failing++
				}
				if c.SystemOut != nil {
					listed++
				}
			}
			if failing != tc.wantFailures {
				t.Errorf("%d failing test cases, want %d", failing, tc.wantFailures)
			}
			if tc.wantFailures < 7 && listed == 0 {
				t.Error("findings below the threshold are not listed in system-out")
			}
		})
	}
}
