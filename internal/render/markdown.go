package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// writeMarkdown prints GitHub-flavoured Markdown for pull-request comments
// and CI step summaries: a title, the summary, a partial-result alert, the
// findings table and how to fix them.
func writeMarkdown(w io.Writer, r finding.Report, opts Options) error {
	var b strings.Builder
	title := opts.Title
	if title == "" {
		title = "shipshape report"
	}
	fmt.Fprintf(&b, "## %s\n\n", mdEscape(title))
	fmt.Fprintf(&b, "**%s**", mdEscape(summaryLine(r)))
	if r.Summary.Input != "" {
		fmt.Fprintf(&b, " (input: %s)", mdEscape(r.Summary.Input))
	}
	b.WriteString("\n\n")

	if r.Partial || len(r.Warnings) > 0 {
		if r.Partial {
			fmt.Fprintf(&b, "> [!WARNING]\n> **Partial result:** %s.\n", mdEscape(partialNotice))
		} else {
			b.WriteString("> [!NOTE]\n> **Warnings:**\n")
		}
		if len(r.Warnings) > 0 {
			b.WriteString(">\n")
		}
		for _, wn := range r.Warnings {
			b.WriteString("> - ")
			if wn.Source != "" {
				fmt.Fprintf(&b, "%s: ", mdCode(wn.Source))
			}
			b.WriteString(mdEscape(oneLine(wn.Message)) + "\n")
		}
		b.WriteString("\n")
	}

	if len(r.Findings) == 0 {
		b.WriteString("No findings.\n")
		writeMarkdownExempted(&b, r)
		_, err := io.WriteString(w, b.String())
		return err
	}

	b.WriteString("| Severity | Check | Where | Message |\n")
	b.WriteString("| --- | --- | --- | --- |\n")
	for _, f := range r.Findings {
		where := f.Where()
		if where == "" {
			where = "-"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.Severity, mdCode(f.Check), mdCell(where), mdCell(f.Message))
	}

	infos := checkInfos(r, opts.Checks)
	var fixes strings.Builder
	for _, ci := range infos {
		if len(ci.Findings) == 0 {
			continue
		}
		seen := map[string]bool{}
		var items []string
		for _, f := range ci.Findings {
			text := mdEscape(oneLine(f.Remediation))
			if url := f.DocsURL; url != "" && url != ci.DocsURL {
				text = strings.TrimSpace(text + " " + mdLink("Docs", url))
			}
			if text != "" && !seen[text] {
				seen[text] = true
				items = append(items, text)
			}
		}
		head := mdCode(ci.ID)
		if ci.Title != "" {
			head += " — " + mdEscape(oneLine(ci.Title))
		}
		if ci.DocsURL != "" {
			head += " (" + mdLink("docs", ci.DocsURL) + ")"
		}
		if len(items) == 0 && ci.DocsURL == "" {
			continue
		}
		fmt.Fprintf(&fixes, "- %s\n", head)
		for _, it := range items {
			fmt.Fprintf(&fixes, "  - %s\n", it)
		}
	}
	if fixes.Len() > 0 {
		b.WriteString("\n<details>\n<summary>How to fix</summary>\n\n")
		b.WriteString(fixes.String())
		b.WriteString("\n</details>\n")
	}
	writeMarkdownExempted(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMarkdownExempted lists exempted findings, when the report carries them.
func writeMarkdownExempted(b *strings.Builder, r finding.Report) {
	if len(r.Exempted) == 0 {
		return
	}
	fmt.Fprintf(b, "\n<details>\n<summary>Exempted (%d)</summary>\n\n", len(r.Exempted))
	b.WriteString("| Severity | Check | Where | Message | Exemption |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, f := range r.Exempted {
		where := f.Where()
		if where == "" {
			where = "-"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", f.Severity, mdCode(f.Check), mdCell(where), mdCell(f.Message), mdCell(f.Exemption))
	}
	b.WriteString("\n</details>\n")
}

// mdEscape escapes the characters Markdown would read as formatting, and
// those that would break a table row.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCell escapes s for a table cell, turning line breaks into <br>.
func mdCell(s string) string {
	lines := strings.Split(strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = mdEscape(strings.TrimSpace(l))
	}
	return strings.Join(lines, "<br>")
}

// mdCode formats s as inline code, safe inside a table cell.
func mdCode(s string) string {
	s = oneLine(s)
	if s == "" {
		return ""
	}
	// A pipe ends a table cell even inside a code span unless escaped; a
	// backtick would end the span.
	if strings.ContainsAny(s, "`") {
		return mdEscape(s)
	}
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}

// mdLink formats a link whose URL cannot break out of the parentheses.
func mdLink(text, url string) string {
	url = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(url)
	return "[" + mdEscape(text) + "](" + url + ")"
}
