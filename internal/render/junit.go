package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// writeJUnit prints JUnit XML: one test suite with one test case per check.
// A check with findings fails with one <failure> that lists all of them; a
// check without findings passes. Warnings go to the suite's <system-err>.
func writeJUnit(w io.Writer, r finding.Report, opts Options) error {
	infos := checkInfos(r, opts.Checks)
	fails := func(f finding.Finding) bool { return !opts.NeverFail && f.Severity >= opts.FailAt }
	failures := 0
	for _, ci := range infos {
		for _, f := range ci.Findings {
			if fails(f) {
				failures++
				break
			}
		}
	}
	name := opts.Tool.Name
	if name == "" {
		name = "shipshape"
	}
	tally := []xml.Attr{
		attr("tests", strconv.Itoa(len(infos))),
		attr("failures", strconv.Itoa(failures)),
		attr("errors", "0"),
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	x := &xmlWriter{enc: xml.NewEncoder(w)}
	x.enc.Indent("", "  ")

	var suitesAttrs []xml.Attr
	if opts.Title != "" {
		suitesAttrs = append(suitesAttrs, attr("name", opts.Title))
	}
	suites := x.start("testsuites", append(suitesAttrs, tally...)...)
	suite := x.start("testsuite", append(append([]xml.Attr{attr("name", name)}, tally...), attr("skipped", "0"))...)

	props := x.start("properties")
	for _, p := range [][2]string{
		{"input", r.Summary.Input},
		{"objects", strconv.Itoa(r.Summary.Objects)},
		{"checks", strconv.Itoa(r.Summary.Checks)},
		{"partial", strconv.FormatBool(r.Partial)},
	} {
		x.end(x.start("property", attr("name", p[0]), attr("value", p[1])))
	}
	x.end(props)

	for _, ci := range infos {
		tc := x.start("testcase", attr("classname", group(ci.ID)), attr("name", ci.ID))
		var failing, passing []finding.Finding
		for _, f := range ci.Findings {
			if fails(f) {
				failing = append(failing, f)
			} else {
				passing = append(passing, f)
			}
		}
		if len(failing) > 0 {
			highest := failing[0].Severity
			for _, f := range failing {
				highest = max(highest, f.Severity)
			}
			msg := fmt.Sprintf("%s, highest severity %s", plural(len(failing), "finding"), highest)
			fl := x.start("failure", attr("message", msg), attr("type", highest.String()))
			x.text(junitLines(failing))
			x.end(fl)
		}
		if len(passing) > 0 {
			so := x.start("system-out")
			x.text(junitLines(passing))
			x.end(so)
		}
		x.end(tc)
	}

	if len(r.Warnings) > 0 || r.Partial {
		var lines []string
		for _, wn := range r.Warnings {
			text := oneLine(wn.Message)
			if wn.Source != "" {
				text = wn.Source + ": " + text
			}
			lines = append(lines, "warning: "+text)
		}
		if r.Partial {
			lines = append(lines, "PARTIAL RESULT: "+partialNotice+".")
		}
		se := x.start("system-err")
		x.text(strings.Join(lines, "\n"))
		x.end(se)
	}

	x.end(suite)
	x.end(suites)
	if x.err == nil {
		x.err = x.enc.Flush()
	}
	if x.err != nil {
		return fmt.Errorf("encode junit: %w", x.err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitLines lists findings one per line: severity, where, message.
func junitLines(fs []finding.Finding) string {
	lines := make([]string, 0, len(fs))
	for _, f := range fs {
		where := f.Where()
		if where != "" {
			where = " " + where
		}
		lines = append(lines, fmt.Sprintf("%s%s: %s", f.Severity, where, oneLine(f.Message)))
	}
	return strings.Join(lines, "\n")
}

func attr(name, value string) xml.Attr { return xml.Attr{Name: xml.Name{Local: name}, Value: value} }

// xmlWriter writes XML tokens and keeps the first error. Character data keeps
// its line breaks; encoding/xml escapes everything else.
type xmlWriter struct {
	enc *xml.Encoder
	err error
}

func (x *xmlWriter) token(t xml.Token) {
	if x.err == nil {
		x.err = x.enc.EncodeToken(t)
	}
}

func (x *xmlWriter) start(name string, attrs ...xml.Attr) xml.StartElement {
	s := xml.StartElement{Name: xml.Name{Local: name}, Attr: attrs}
	x.token(s)
	return s
}

func (x *xmlWriter) end(s xml.StartElement) { x.token(s.End()) }

func (x *xmlWriter) text(s string) { x.token(xml.CharData(s)) }
