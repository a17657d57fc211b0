package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// document returns the report as the JSON and YAML formats print it: the
// Report itself, with "findings" an empty list rather than null and every
// severity present in "bySeverity" (counted from the findings when the report
// has no counts). Values the report sets are kept as they are.
func document(r finding.Report) finding.Report {
	if r.Findings == nil {
		r.Findings = []finding.Finding{}
	}
	c := counts(r)
	by := make(map[string]int, len(finding.Severities()))
	for _, s := range finding.Severities() {
		by[s.String()] = c[s]
	}
	for k, v := range r.Summary.BySeverity {
		by[k] = v
	}
	r.Summary.BySeverity = by
	return r
}

// marshalJSON encodes v indented by two spaces, without HTML escaping, with a
// trailing newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSON(w io.Writer, r finding.Report) error {
	b, err := marshalJSON(document(r))
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// writeYAML prints the JSON document as YAML, so that the keys are exactly
// the JSON keys. Mapping keys come out sorted.
func writeYAML(w io.Writer, r finding.Report) error {
	j, err := marshalJSON(document(r))
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return fmt.Errorf("convert report to yaml: %w", err)
	}
	_, err = w.Write(y)
	return err
}
