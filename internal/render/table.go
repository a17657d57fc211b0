package render

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// Column layout of the table format.
const (
	colGap = "  "
	// minCol is the narrowest the CHECK and WHERE columns get.
	minCol = 8
	// minMessage is the narrowest the MESSAGE column gets.
	minMessage = 16
)

// ANSI escape sequences for the table format.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiYellow = "\x1b[33m"
)

func severityColor(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "\x1b[1;31m" // bold red
	case finding.High:
		return "\x1b[31m" // red
	case finding.Medium:
		return "\x1b[33m" // yellow
	case finding.Low:
		return "\x1b[36m" // cyan
	}
	return "\x1b[34m" // blue
}

// textWriter writes the lines of the table format.
type textWriter struct {
	w     io.Writer
	color bool
	width int
	err   error
}

func (t *textWriter) line(s string) {
	if t.err != nil {
		return
	}
	_, t.err = io.WriteString(t.w, strings.TrimRight(s, " ")+"\n")
}

// paint wraps s in an ANSI colour when colours are on.
func (t *textWriter) paint(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

// para writes text wrapped to the width, the first line after first and the
// others after rest.
func (t *textWriter) para(first, rest, text string) {
	text = oneLine(text)
	if t.width <= 0 {
		t.line(first + text)
		return
	}
	w1 := max(t.width-visibleLen(first), minMessage)
	w2 := max(t.width-visibleLen(rest), minMessage)
	lines := wrap(text, w1)
	t.line(first + lines[0])
	if remainder := strings.TrimSpace(strings.TrimPrefix(text, lines[0])); remainder != "" {
		for _, l := range wrap(remainder, w2) {
			t.line(rest + l)
		}
	}
}

// visibleLen counts the runes of s that a terminal shows, skipping ANSI
// colour sequences.
func visibleLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "\x1b[") {
			if end := strings.IndexByte(s[i:], 'm'); end >= 0 {
				i += end + 1
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

func writeTable(w io.Writer, r finding.Report, opts Options) error {
	t := &textWriter{w: w, color: opts.Color, width: opts.Width}

	header := inputLine(r)
	if opts.Title != "" {
		header = opts.Title + ": " + header
	}
	t.para("", "", header)
	t.line("")

	if len(r.Findings) == 0 {
		t.line("No findings.")
	} else {
		writeFindingsTable(t, r.Findings)
		writeHints(t, r.Findings, opts.Checks)
	}

	if len(r.Exempted) > 0 {
		t.line("")
		t.line(t.paint(ansiBold, "Exempted:"))
		for _, f := range r.Exempted {
			t.para("  "+f.Check+"  "+f.Where()+": ", "    ", f.Message+" — "+f.Exemption)
		}
	}

	if len(r.Warnings) > 0 || r.Partial {
		t.line("")
	}
	for _, wn := range r.Warnings {
		label := "warning:"
		text := wn.Message
		if wn.Source != "" {
			text = wn.Source + ": " + text
		}
		t.para(t.paint(ansiYellow, label)+" ", strings.Repeat(" ", len(label)+1), text)
	}
	if r.Partial {
		label := "PARTIAL RESULT:"
		t.para(t.paint(ansiBold+ansiYellow, label)+" ", strings.Repeat(" ", len(label)+1), partialNotice+".")
	}

	t.line("")
	t.para("", "", summaryLine(r))
	return t.err
}

// writeFindingsTable writes SEVERITY | CHECK | WHERE | MESSAGE. When the
// rows are wider than the width, CHECK is truncated with "…" beyond a third
// of the room, and WHERE and MESSAGE share the rest and wrap.
func writeFindingsTable(t *textWriter, fs []finding.Finding) {
	type row struct {
		sev                   finding.Severity
		check, where, message string
	}
	rows := make([]row, 0, len(fs))
	sevW, checkW, whereW, msgW := len("SEVERITY"), len("CHECK"), len("WHERE"), len("MESSAGE")
	for _, f := range fs {
		rw := row{sev: f.Severity, check: oneLine(f.Check), where: oneLine(f.Where()), message: oneLine(f.Message)}
		if rw.where == "" {
			rw.where = "-"
		}
		rows = append(rows, rw)
		sevW = max(sevW, len(f.Severity.String()))
		checkW = max(checkW, utf8.RuneCountInString(rw.check))
		whereW = max(whereW, utf8.RuneCountInString(rw.where))
		msgW = max(msgW, utf8.RuneCountInString(rw.message))
	}
	wrapWhere, wrapMsg := 0, 0 // no wrapping
	if t.width > 0 {
		avail := t.width - sevW - 3*len(colGap)
		if checkW+whereW+msgW > avail {
			checkW = min(checkW, max(avail/3, minCol))
			rest := avail - checkW
			whereW = min(whereW, max(rest/2, minCol))
			msgW = max(rest-whereW, minMessage)
			wrapWhere, wrapMsg = whereW, msgW
		}
	}

	pad := func(s string, w int) string { return s + strings.Repeat(" ", max(w-utf8.RuneCountInString(s), 0)) }
	t.line(t.paint(ansiBold, pad("SEVERITY", sevW)+colGap+pad("CHECK", checkW)+colGap+pad("WHERE", whereW)+colGap+"MESSAGE"))
	for _, rw := range rows {
		name := strings.ToUpper(rw.sev.String())
		sev := t.paint(severityColor(rw.sev), name) + strings.Repeat(" ", sevW-len(name))
		check := truncate(rw.check, checkW)
		where := wrap(rw.where, wrapWhere)
		msg := wrap(rw.message, wrapMsg)
		for i := range max(len(where), len(msg)) {
			var b strings.Builder
			if i == 0 {
				b.WriteString(sev + colGap + pad(check, checkW) + colGap)
			} else {
				b.WriteString(strings.Repeat(" ", sevW+checkW+2*len(colGap)))
			}
			if i < len(where) {
				b.WriteString(pad(where[i], whereW))
			} else {
				b.WriteString(strings.Repeat(" ", whereW))
			}
			b.WriteString(colGap)
			if i < len(msg) {
				b.WriteString(msg[i])
			}
			t.line(b.String())
		}
	}
}

// writeHints lists how to fix what was found: each distinct remediation and
// documentation link once, in the order of the findings.
func writeHints(t *textWriter, fs []finding.Finding, checks []finding.Check) {
	docs := map[string]string{}
	for _, c := range checks {
		if _, ok := docs[c.ID]; !ok {
			docs[c.ID] = c.DocsURL
		}
	}
	type hint struct{ check, text, url string }
	seen := map[hint]bool{}
	var hints []hint
	for _, f := range fs {
		h := hint{check: f.Check, text: oneLine(f.Remediation), url: f.DocsURL}
		if h.url == "" {
			h.url = docs[f.Check]
		}
		if (h.text == "" && h.url == "") || seen[h] {
			continue
		}
		seen[h] = true
		hints = append(hints, h)
	}
	if len(hints) == 0 {
		return
	}
	t.line("")
	t.line("How to fix:")
	for _, h := range hints {
		text := h.text
		if h.url != "" {
			text = strings.TrimSpace(text + " See " + h.url)
		}
		t.para(fmt.Sprintf("  %s: ", h.check), "    ", text)
	}
}

// truncate shortens s to at most w runes, ending it with "…" when cut.
func truncate(s string, w int) string {
	if w <= 0 || utf8.RuneCountInString(s) <= w {
		return s
	}
	r := []rune(s)
	return string(r[:w-1]) + "…"
}

// wrap breaks s into lines of at most w runes at spaces. Words longer than a
// line are split, after a slash when possible, except links, which stay whole so that terminals can still
// open them. A w of 0 or less means no limit.
func wrap(s string, w int) []string {
	if w <= 0 || utf8.RuneCountInString(s) <= w {
		return []string{s}
	}
	var lines []string
	var cur []rune
	for _, word := range strings.Fields(s) {
		wr := []rune(word)
		link := strings.HasPrefix(word, "https://") || strings.HasPrefix(word, "http://")
		for len(wr) > 0 {
			switch {
			case len(cur) == 0 && (len(wr) <= w || link):
				cur, wr = wr, nil
			case len(cur) > 0 && len(cur)+1+len(wr) <= w:
				cur = append(append(cur, ' '), wr...)
				wr = nil
			case len(cur) > 0:
				lines = append(lines, string(cur))
				cur = nil
			default: // a word longer than a line: split it, after a '/' when there is one
				cut := w
				for i := w - 1; i > w/2; i-- {
					if wr[i] == '/' {
						cut = i + 1
						break
					}
				}
				lines = append(lines, string(wr[:cut]))
				wr = wr[cut:]
			}
		}
	}
	if len(cur) > 0 || len(lines) == 0 {
		lines = append(lines, string(cur))
	}
	return lines
}
