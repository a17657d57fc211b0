package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

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

// writeJSON streams the report to w; see writeReportJSON.
func writeJSON(w io.Writer, r finding.Report) error {
	return writeReportJSON(w, document(r))
}

// writeYAML prints the JSON document as YAML, so that the keys are exactly
// the JSON keys. Mapping keys come out sorted.
func writeYAML(w io.Writer, r finding.Report) error {
	j, err := reportJSON(document(r))
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

// reportJSON returns exactly what marshalJSON returns for the report.
func reportJSON(r finding.Report) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeReportJSON(&buf, r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeReportJSON writes exactly what marshalJSON returns for the report to
// w, faster and without holding the whole document in memory: the findings
// and exempted findings, which make up nearly all of a large report, are
// written directly in chunks, and only the small rest of the report goes
// through encoding/json. Everything that could fail to encode is checked
// before the first byte is written, so an encoding error leaves w untouched.
func writeReportJSON(w io.Writer, r finding.Report) error {
	rest := r
	rest.Findings = []finding.Finding{}
	rest.Exempted = nil
	tail, err := marshalJSON(rest)
	if err != nil {
		return err
	}
	const head = "{\n  \"findings\": [],\n"
	const end = "\n}\n"
	if !validSeverities(r.Findings) || !validSeverities(r.Exempted) ||
		!bytes.HasPrefix(tail, []byte(head)) || !bytes.HasSuffix(tail, []byte(end)) {
		// encoding/json's own result or error.
		b, err := marshalJSON(r)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	e := jsonWriter{w: w, buf: make([]byte, 0, jsonChunk+4096)}
	e.buf = append(e.buf, "{\n  \"findings\": "...)
	e.findings(r.Findings)
	e.buf = append(e.buf, ",\n"...)
	if len(r.Exempted) == 0 {
		e.buf = append(e.buf, tail[len(head):]...)
	} else {
		// exempted is the last field of the report.
		e.buf = append(e.buf, tail[len(head):len(tail)-len(end)]...)
		e.buf = append(e.buf, ",\n  \"exempted\": "...)
		e.findings(r.Exempted)
		e.buf = append(e.buf, end...)
	}
	e.flush()
	return e.err
}

// validSeverities reports whether every severity is one encoding/json can
// write (Severity.MarshalText accepts it).
func validSeverities(fs []finding.Finding) bool {
	for i := range fs {
		if fs[i].Severity < finding.Info || fs[i].Severity > finding.Critical {
			return false
		}
	}
	return true
}

// jsonChunk is how much jsonWriter gathers before writing.
const jsonChunk = 64 << 10

// jsonWriter writes findings as encoding/json does with SetEscapeHTML(false)
// and SetIndent("", "  "), as a field of the top-level object.
type jsonWriter struct {
	w   io.Writer
	buf []byte
	err error
}

// flush writes what has been gathered; the first error sticks.
func (e *jsonWriter) flush() {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

// findings writes the list at indent level 1; the severities are valid.
func (e *jsonWriter) findings(fs []finding.Finding) {
	if fs == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	if len(fs) == 0 {
		e.buf = append(e.buf, "[]"...)
		return
	}
	e.buf = append(e.buf, "[\n"...)
	for i := range fs {
		if i > 0 {
			e.buf = append(e.buf, ",\n"...)
		}
		e.finding(&fs[i])
		if len(e.buf) >= jsonChunk {
			e.flush()
		}
	}
	e.buf = append(e.buf, "\n  ]"...)
}

const (
	jsonIndent2 = "    "
	jsonIndent3 = "      "
	jsonIndent4 = "        "
)

func (e *jsonWriter) finding(f *finding.Finding) {
	e.buf = append(e.buf, jsonIndent2+"{\n"...)
	e.field(jsonIndent3, "check", f.Check)
	e.buf = append(e.buf, ",\n"...)
	e.field(jsonIndent3, "severity", f.Severity.String())
	e.buf = append(e.buf, ",\n"...)
	e.field(jsonIndent3, "message", f.Message)
	if f.Remediation != "" {
		e.buf = append(e.buf, ",\n"...)
		e.field(jsonIndent3, "remediation", f.Remediation)
	}
	if f.DocsURL != "" {
		e.buf = append(e.buf, ",\n"...)
		e.field(jsonIndent3, "docsURL", f.DocsURL)
	}
	if o := f.Object; o != nil {
		e.buf = append(e.buf, ",\n"+jsonIndent3+"\"object\": {"...)
		first := true
		for _, kv := range [...]struct{ k, v string }{{"apiVersion", o.APIVersion}, {"kind", o.Kind}, {"namespace", o.Namespace}, {"name", o.Name}} {
			if kv.v == "" {
				continue
			}
			if first {
				e.buf = append(e.buf, '\n')
				first = false
			} else {
				e.buf = append(e.buf, ",\n"...)
			}
			e.field(jsonIndent4, kv.k, kv.v)
		}
		if !first {
			e.buf = append(e.buf, "\n"+jsonIndent3...)
		}
		e.buf = append(e.buf, '}')
	}
	if l := f.Location; l != nil {
		e.buf = append(e.buf, ",\n"+jsonIndent3+"\"location\": {\n"...)
		e.field(jsonIndent4, "path", l.Path)
		if l.Line != 0 {
			e.buf = append(e.buf, ",\n"+jsonIndent4+"\"line\": "...)
			e.buf = strconv.AppendInt(e.buf, int64(l.Line), 10)
		}
		e.buf = append(e.buf, "\n"+jsonIndent3+"}"...)
	}
	if f.Exemption != "" {
		e.buf = append(e.buf, ",\n"...)
		e.field(jsonIndent3, "exemption", f.Exemption)
	}
	e.buf = append(e.buf, "\n"+jsonIndent2+"}"...)
}

// field writes indent"key": "value"; key is a plain identifier.
func (e *jsonWriter) field(indent, key, value string) {
	e.buf = append(e.buf, indent...)
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, key...)
	e.buf = append(e.buf, "\": "...)
	e.string(value)
}

// string writes s as a JSON string. Strings of printable characters are
// copied; any other goes through encoding/json, so the escaping is always
// exactly its own.
func (e *jsonWriter) string(s string) {
	plain, ascii := true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' {
			plain = false
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if plain && !ascii && (!utf8.ValidString(s) || strings.ContainsRune(s, '\u2028') || strings.ContainsRune(s, '\u2029')) {
		plain = false
	}
	if plain {
		e.buf = append(e.buf, '"')
		e.buf = append(e.buf, s...)
		e.buf = append(e.buf, '"')
		return
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	e.buf = append(e.buf, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}
