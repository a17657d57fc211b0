package render

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// TestReportJSONSameAsEncodingJSON checks that the direct writer of findings
// produces byte for byte what encoding/json produces, for every optional
// field and for strings that need escaping.
func TestReportJSONSameAsEncodingJSON(t *testing.T) {
	strs := []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr\bback\fform\x01\x1f",
		"<html> & co", "ünïcødé — ok", "bad utf8 \xff\xfe", "sep \u2028 \u2029", "del \x7f", "emoji 🚢",
	}
	var fs []finding.Finding
	for i, s := range strs {
		f := finding.Finding{Check: "x/" + fmt.Sprint(i), Severity: finding.Severity(i % 5), Message: s}
		if i%2 == 0 {
			f.Remediation, f.DocsURL = s, "https://example.com/"+s
		}
		switch i % 4 {
		case 0:
			f.Object = &finding.Object{APIVersion: "v1", Kind: s, Namespace: "ns", Name: s}
			f.Location = &finding.Location{Path: s, Line: i}
		case 1:
			f.Object = &finding.Object{}
			f.Location = &finding.Location{Path: s}
		case 2:
			f.Object = &finding.Object{Name: s}
			f.Exemption = s
		}
		fs = append(fs, f)
	}
	for _, tc := range []struct {
		name string
		r    finding.Report
	}{
		{"nil findings", finding.Report{}},
		{"empty findings", finding.Report{Findings: []finding.Finding{}}},
		{"findings", finding.Report{Findings: fs, Partial: true, Warnings: []finding.Warning{{Source: "s", Message: "m <&>"}}}},
		{"exempted", finding.Report{Findings: fs[:3], Exempted: fs[3:], Summary: finding.Summary{Input: "files", Objects: 3, Exempted: 7}}},
		{"only exempted", finding.Report{Exempted: fs}},
		{"documented", document(finding.Report{Findings: fs})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := marshalJSON(tc.r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := reportJSON(tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("reportJSON differs from encoding/json\n got: %s\nwant: %s", got, want)
			}
		})
	}
	t.Run("invalid severity", func(t *testing.T) {
		r := finding.Report{Findings: []finding.Finding{{Check: "x/y", Severity: 99}}}
		_, want := marshalJSON(r)
		var w bytes.Buffer
		got := writeReportJSON(&w, r)
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("error %v, want %v", got, want)
		}
		if w.Len() != 0 {
			t.Errorf("wrote %q before failing", w.String())
		}
	})
}

// TestReportJSONLarge checks a report larger than one write chunk: the same
// bytes as encoding/json, written in more than one Write.
func TestReportJSONLarge(t *testing.T) {
	var fs []finding.Finding
	for i := range 2000 {
		fs = append(fs, finding.Finding{
			Check: "audit/x", Severity: finding.Medium, Message: fmt.Sprintf("finding %d", i),
			Object:   &finding.Object{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: fmt.Sprint("web-", i)},
			Location: &finding.Location{Path: "deploy/web.yaml", Line: i + 1},
		})
	}
	r := document(finding.Report{Findings: fs, Exempted: fs[:10]})
	want, err := marshalJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	var w countingWriter
	if err := writeReportJSON(&w, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.buf.Bytes(), want) {
		t.Error("streamed report differs from encoding/json")
	}
	if w.writes < 2 {
		t.Errorf("%d bytes in %d writes, want them in chunks", w.buf.Len(), w.writes)
	}
}

type countingWriter struct {
	buf    bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.buf.Write(p)
}
