package yamledit

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Bytes returns the file with all edits applied. Documents without changes
// come out byte-identical; in changed documents only the changed entries
// change (see the package documentation). Line endings are those of the
// original file.
func (f *File) Bytes() ([]byte, error) {
	var out bytes.Buffer
	for _, doc := range f.docs {
		text := f.text[doc.start:doc.end]
		if doc.node != nil {
			var err error
			if text, err = f.renderDoc(doc); err != nil {
				return nil, err
			}
		}
		out.Write(text)
	}
	b := out.Bytes()
	if !f.eol && len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	if f.crlf {
		b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	}
	if f.bom {
		b = append([]byte(utf8BOM), b...)
	}
	return b, nil
}

// splice replaces text[start:end] (offsets in File.text) with text.
type splice struct {
	start, end int
	text       string
}

// style is the layout of a document, used to render new parts.
type style struct {
	indent  int  // spaces per mapping level: 2 or 4
	compact bool // a block sequence's `-` sits at its parent key's column
}

type differ struct {
	f       *File
	doc     *Document
	style   style
	used    map[*yaml.Node]bool // orig nodes already matched
	splices []splice
	anchors int // depth of anchored orig nodes around the walk
	err     error
}

func (f *File) renderDoc(doc *Document) ([]byte, error) {
	d := &differ{f: f, doc: doc, used: map[*yaml.Node]bool{}}
	text := f.text[doc.start:doc.end]
	cur, orig := doc.node, doc.orig
	if cur.Kind != orig.Kind || cur.HeadComment != orig.HeadComment || cur.FootComment != orig.FootComment ||
		len(cur.Content) != len(orig.Content) {
		return nil, fmt.Errorf("%s:%d: document node replaced: edit its root instead", f.Path, doc.StartLine)
	}
	if len(cur.Content) == 0 {
		return text, nil
	}
	root, oroot := cur.Content[0], orig.Content[0]
	d.style = detectStyle(oroot)
	if !d.walk(root, oroot, -1) && d.err == nil {
		d.splices = d.splices[:0]
		if err := d.checkAnchors(oroot); err != nil {
			return nil, err
		}
		// Re-render the whole root.
		start := d.offset(oroot)
		end := f.lineEnd(d.endLine(oroot, -1))
		d.splices = append(d.splices, splice{start, end, d.render(trimTail(root), 0, false)})
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.splices) == 0 {
		return text, nil
	}
	sortSplices(d.splices)
	var b bytes.Buffer
	pos := doc.start
	for _, s := range d.splices {
		if s.start < pos || s.end > doc.end {
			return nil, fmt.Errorf("%s:%d: internal error: overlapping edits", f.Path, f.lineOf(s.start))
		}
		b.Write(f.text[pos:s.start])
		b.WriteString(s.text)
		pos = s.end
	}
	b.Write(f.text[pos:doc.end])
	return b.Bytes(), nil
}

// sortSplices orders splices by position, an insertion before a
// replacement that starts at the same place.
func sortSplices(s []splice) {
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].start != s[j].start {
			return s[i].start < s[j].start
		}
		return s[i].end < s[j].end
	})
}

// overlapping reports whether the splices from mark on overlap (the walk
// then re-renders the collection instead).
func (d *differ) overlapping(mark int) bool {
	s := append([]splice(nil), d.splices[mark:]...)
	sortSplices(s)
	for i := 1; i < len(s); i++ {
		if s[i].start < s[i-1].end {
			return true
		}
	}
	return false
}

// detectStyle finds the indentation and sequence style of a document from
// its first nested block mapping and block sequence.
func detectStyle(root *yaml.Node) style {
	s := style{}
	seqOffset := -1
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		if s.indent > 0 && seqOffset >= 0 {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Style&yaml.FlowStyle == 0 && v.Line > k.Line {
					if v.Kind == yaml.MappingNode && s.indent == 0 && v.Column > k.Column {
						s.indent = v.Column - k.Column
					}
					if v.Kind == yaml.SequenceNode && seqOffset < 0 && v.Column >= k.Column {
						seqOffset = v.Column - k.Column
					}
				}
				visit(v)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				visit(c)
			}
		}
	}
	visit(root)
	if s.indent != 4 {
		s.indent = 2
	}
	switch {
	case seqOffset == 0 && s.indent == 2:
		s.compact = true
	case seqOffset == 2 && s.indent == 4:
		s.compact = true
	case seqOffset < 0 && s.indent == 2:
		// No sequence to learn from: follow kubectl, which writes compact.
		s.compact = true
	}
	return s
}

// render encodes n in the document's style, as text to place at column col
// (0-based): lines after the first are indented by col, and the first too
// when indentFirst. The text ends with a newline.
func (d *differ) render(n *yaml.Node, col int, indentFirst bool) string {
	var b bytes.Buffer
	n = prepare(n)
	e := yaml.NewEncoder(&b)
	e.SetIndent(d.style.indent)
	if d.style.compact {
		e.CompactSeqIndent()
	}
	if err := e.Encode(n); err != nil {
		d.fail(fmt.Errorf("%s: render line %d: %w", d.f.Path, n.Line, err))
		return ""
	}
	if err := e.Close(); err != nil {
		d.fail(err)
		return ""
	}
	s := b.String()
	if col == 0 {
		return s
	}
	pad := strings.Repeat(" ", col)
	lines := strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
	var o strings.Builder
	for i, l := range lines {
		if (i > 0 || indentFirst) && l != "\n" {
			o.WriteString(pad)
		}
		o.WriteString(l)
	}
	o.WriteString("\n")
	return o.String()
}

func (d *differ) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// offset returns the offset in File.text of node n of the original tree.
func (d *differ) offset(n *yaml.Node) int {
	return d.f.lineStart[n.Line-1] + d.byteCol(n.Line, n.Column)
}

// byteCol turns yaml's 1-based character column on line into a 0-based
// byte offset in that line.
func (d *differ) byteCol(line, col int) int {
	l := d.f.line(line)
	off := 0
	for i := 1; i < col && off < len(l); i++ {
		_, size := utf8.DecodeRuneInString(l[off:])
		off += size
	}
	return off
}

// indentOf returns the number of leading spaces of line.
func (d *differ) indentOf(line int) int {
	l := d.f.line(line)
	return len(l) - len(strings.TrimLeft(l, " "))
}

// firstOnLine reports whether orig node n is the first thing on its line.
func (d *differ) firstOnLine(n *yaml.Node) bool {
	return d.indentOf(n.Line) == d.byteCol(n.Line, n.Column)
}

// endLine returns the last line of original node n, which sits in a block
// whose parent is indented by parentIndent spaces (-1 for the root).
func (d *differ) endLine(n *yaml.Node, parentIndent int) int {
	if n.Style&yaml.FlowStyle == 0 {
		switch n.Kind {
		case yaml.MappingNode:
			if len(n.Content) >= 2 {
				k := n.Content[len(n.Content)-2]
				v := n.Content[len(n.Content)-1]
				return max(k.Line, d.valueEnd(v, d.byteCol(k.Line, k.Column)))
			}
		case yaml.SequenceNode:
			if len(n.Content) > 0 {
				return max(n.Line, d.valueEnd(n.Content[len(n.Content)-1], d.byteCol(n.Line, n.Column)))
			}
		}
	}
	if n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		if end := d.quotedEnd(n); end > 0 {
			return d.f.lineOf(end - 1)
		}
	}
	if n.Style&yaml.FlowStyle != 0 && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) {
		if end := d.flowEnd(n); end > 0 {
			return d.f.lineOf(end - 1)
		}
	}
	// A scalar, alias or flow collection: its continuation lines are
	// indented deeper than the parent.
	last := n.Line
	block := n.Kind == yaml.ScalarNode && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
	keep := false
	if block {
		// The header: | or > with indentation and chomping indicators.
		h := d.f.line(n.Line)[d.byteCol(n.Line, n.Column):]
		if i := strings.IndexAny(h, " \t#"); i >= 0 {
			h = h[:i]
		}
		keep = strings.Contains(h, "+")
	}
	for l := n.Line + 1; l <= d.doc.EndLine; l++ {
		text := d.f.line(l)
		if strings.TrimSpace(text) == "" {
			// Blank lines belong to a block scalar when it keeps them, or
			// when they hold spaces beyond the parent's indentation.
			if block && (keep || len(text) > parentIndent+1) {
				last = l
			}
			continue
		}
		if d.indentOf(l) <= parentIndent || isMarker([]byte(text), "---") || isMarker([]byte(text), "...") {
			break
		}
		if block || !strings.HasPrefix(strings.TrimSpace(text), "#") {
			last = l
		}
	}
	return last
}

// quotedEnd returns the offset just past the closing quote of a quoted
// scalar of the original tree, or 0 when there is none.
func (d *differ) quotedEnd(n *yaml.Node) int {
	start := d.offset(n)
	text := d.f.text[:d.doc.end]
	if start >= len(text) {
		return 0
	}
	q := text[start]
	if q != '"' && q != '\'' {
		return 0
	}
	for i := start + 1; i < len(text); i++ {
		switch {
		case q == '"' && text[i] == '\\':
			i++
		case text[i] == q && q == '\'' && i+1 < len(text) && text[i+1] == '\'':
			i++
		case text[i] == q:
			return i + 1
		}
	}
	return 0
}

// flowEnd returns the offset just past the closing bracket of a flow
// collection of the original tree, or 0 when there is none.
func (d *differ) flowEnd(n *yaml.Node) int {
	text := d.f.text[:d.doc.end]
	depth := 0
	for i := d.offset(n); i < len(text); i++ {
		switch c := text[i]; c {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"', '\'':
			quote := 0
			for j := i + 1; j < len(text) && quote == 0; j++ {
				switch {
				case c == '"' && text[j] == '\\':
					j++
				case c == '\'' && text[j] == '\'' && j+1 < len(text) && text[j+1] == '\'':
					j++
				case text[j] == c:
					quote = j
				}
			}
			if quote == 0 {
				return 0
			}
			i = quote
		case '#':
			if i > 0 && (text[i-1] == ' ' || text[i-1] == '\t' || text[i-1] == '\n') {
				for i < len(text) && text[i] != '\n' {
					i++
				}
			}
		}
	}
	return 0
}

// valueEnd is endLine for a value whose key or dash is at column
// parentIndent; an empty value ends where yaml puts it, on its key's or
// dash's line.
func (d *differ) valueEnd(v *yaml.Node, parentIndent int) int {
	if v.Kind == yaml.ScalarNode && v.Value == "" && v.Style == 0 {
		return v.Line
	}
	return d.endLine(v, parentIndent)
}

// headStart returns the first line of the comment lines directly above
// line, not going above limit.
func (d *differ) headStart(line, limit int) int {
	for line-1 > limit && line-1 >= d.doc.StartLine {
		t := strings.TrimSpace(d.f.line(line - 1))
		if !strings.HasPrefix(t, "#") {
			break
		}
		line--
	}
	return line
}

// checkAnchors refuses to re-render original text that holds anchors or
// aliases.
func (d *differ) checkAnchors(o *yaml.Node) error {
	if o.Anchor != "" || o.Kind == yaml.AliasNode {
		return fmt.Errorf("%s:%d: %w (&%s)", d.f.Path, o.Line, ErrAlias, o.Anchor+o.Value)
	}
	for _, c := range o.Content {
		if err := d.checkAnchors(c); err != nil {
			return err
		}
	}
	return nil
}

// changed records that orig node o changes; under an anchor it fails.
func (d *differ) changed(o *yaml.Node) {
	if d.anchors > 0 || o.Anchor != "" || o.Kind == yaml.AliasNode {
		d.fail(fmt.Errorf("%s:%d: %w: the edit changes an anchored or aliased node", d.f.Path, o.Line, ErrAlias))
	}
}

// sameShallow compares everything of two nodes but their content.
func sameShallow(a, b *yaml.Node) bool {
	return a.Kind == b.Kind && a.Style == b.Style && a.Tag == b.Tag && a.Value == b.Value &&
		a.Anchor == b.Anchor && a.HeadComment == b.HeadComment && a.LineComment == b.LineComment &&
		a.FootComment == b.FootComment && a.Alias == b.Alias
}

// unchanged reports whether cur is, deeply, the original node o.
func (d *differ) unchanged(cur, o *yaml.Node) bool {
	if d.doc.origOf[cur] != o || !sameShallow(cur, o) || len(cur.Content) != len(o.Content) {
		return false
	}
	for i := range cur.Content {
		if !d.unchanged(cur.Content[i], o.Content[i]) {
			return false
		}
	}
	return true
}

// walk adds the splices that turn original node o into cur, for a node in a
// block whose parent is indented parentIndent spaces. It returns false when
// the node must be re-rendered as a whole by its caller (and then adds no
// splices).
func (d *differ) walk(cur, o *yaml.Node, parentIndent int) bool {
	if d.doc.origOf[cur] != o || d.used[o] {
		return false
	}
	d.used[o] = true
	if o.Anchor != "" {
		d.anchors++
		defer func() { d.anchors-- }()
	}
	mark := len(d.splices)
	ok := d.walkNode(cur, o, parentIndent)
	if !ok {
		d.splices = d.splices[:mark]
		d.changed(o)
	}
	return ok
}

func (d *differ) walkNode(cur, o *yaml.Node, parentIndent int) bool {
	if cur.Kind != o.Kind || cur.Anchor != o.Anchor {
		return false
	}
	flow := o.Style&yaml.FlowStyle != 0 || cur.Style&yaml.FlowStyle != 0
	switch {
	case cur.Kind == yaml.ScalarNode:
		if sameShallow(cur, o) {
			return true
		}
		return d.scalarInPlace(cur, o, parentIndent, false)
	case cur.Kind == yaml.AliasNode || flow:
		return d.unchanged(cur, o)
	case cur.HeadComment != o.HeadComment || cur.LineComment != o.LineComment ||
		cur.FootComment != o.FootComment || cur.Tag != o.Tag || cur.Style != o.Style:
		return false
	case cur.Kind == yaml.MappingNode:
		mark := len(d.splices)
		return d.walkMapping(cur, o) && !d.overlapping(mark)
	case cur.Kind == yaml.SequenceNode:
		mark := len(d.splices)
		return d.walkSequence(cur, o) && !d.overlapping(mark)
	}
	return false
}

// scalarInPlace replaces a one-line scalar's text (a value or a key) by the
// rendering of cur.
func (d *differ) scalarInPlace(cur, o *yaml.Node, parentIndent int, isKey bool) bool {
	const block = yaml.LiteralStyle | yaml.FoldedStyle
	if cur.HeadComment != o.HeadComment || cur.LineComment != o.LineComment || cur.FootComment != o.FootComment ||
		o.Style&block != 0 || cur.Style&block != 0 || o.Value == "" && o.Style == 0 {
		return false
	}
	line := d.f.line(o.Line)
	from := d.byteCol(o.Line, o.Column)
	if from >= len(line) || strings.ContainsRune("!&*", rune(line[from])) {
		return false
	}
	to := tokenEnd(line, from, o.Style, isKey)
	if to < 0 || !isKey && d.endLine(o, parentIndent) != o.Line {
		return false
	}
	var b bytes.Buffer
	e := yaml.NewEncoder(&b)
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: cur.Tag, Value: cur.Value, Style: cur.Style}
	if err := e.Encode(n); err != nil {
		return false
	}
	_ = e.Close()
	text := strings.TrimSuffix(b.String(), "\n")
	if strings.Contains(text, "\n") || text == "" || strings.HasPrefix(text, "---") {
		return false
	}
	d.changed(o)
	start := d.f.lineStart[o.Line-1]
	d.splices = append(d.splices, splice{start + from, start + to, text})
	return true
}

// tokenEnd returns the end of the scalar token that starts at from in line,
// or -1 when it does not end on this line.
func tokenEnd(line string, from int, st yaml.Style, isKey bool) int {
	switch {
	case st&yaml.DoubleQuotedStyle != 0:
		for i := from + 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	case st&yaml.SingleQuotedStyle != 0:
		for i := from + 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
		return -1
	}
	end := len(line)
	for i := from; i < len(line); i++ {
		if (line[i] == '#' && i > from && (line[i-1] == ' ' || line[i-1] == '\t')) ||
			(isKey && line[i] == ':' && (i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t')) {
			end = i
			break
		}
	}
	return from + len(strings.TrimRight(line[from:end], " \t"))
}

// entry is one key/value pair (or one sequence item, key nil) of an
// original block collection, with its line range.
type entry struct {
	key, val *yaml.Node
	// start is the offset where the entry's text begins (its key or dash),
	// headLine the first comment line above it, endLine its last line.
	start, headLine, endLine int
	// first: the key or dash is the first thing on its line.
	first bool
}

func (d *differ) mappingEntries(o *yaml.Node) []entry {
	var es []entry
	prevEnd := o.Line - 1
	for i := 0; i+1 < len(o.Content); i += 2 {
		k, v := o.Content[i], o.Content[i+1]
		e := entry{key: k, val: v, start: d.offset(k), first: d.firstOnLine(k)}
		e.endLine = max(k.Line, d.valueEnd(v, d.byteCol(k.Line, k.Column)))
		e.headLine = k.Line
		if e.first && i > 0 {
			e.headLine = d.headStart(k.Line, prevEnd)
		}
		prevEnd = e.endLine
		es = append(es, e)
	}
	return es
}

// dash finds the `-` of a sequence item at column col (bytes), searching
// up from the item's line.
func (d *differ) dash(item *yaml.Node, col, limit int) (line int, ok bool) {
	for l := item.Line; l > limit && l >= d.doc.StartLine; l-- {
		text := d.f.line(l)
		if col < len(text) && text[col] == '-' && (l != item.Line || d.byteCol(l, item.Column) > col) {
			return l, true
		}
	}
	return 0, false
}

func (d *differ) sequenceEntries(o *yaml.Node) ([]entry, bool) {
	var es []entry
	col := d.byteCol(o.Line, o.Column)
	prevEnd := o.Line - 1
	for i, it := range o.Content {
		l, ok := d.dash(it, col, prevEnd)
		if !ok {
			return nil, false
		}
		e := entry{val: it, start: d.f.lineStart[l-1] + col, first: d.indentOf(l) == col}
		e.endLine = max(l, d.valueEnd(it, col))
		e.headLine = l
		if e.first && i > 0 {
			e.headLine = d.headStart(l, prevEnd)
		}
		prevEnd = e.endLine
		es = append(es, e)
	}
	return es, true
}

// walkMapping matches the current pairs with the original ones by node
// identity and splices deletions, insertions and changed entries.
func (d *differ) walkMapping(cur, o *yaml.Node) bool {
	if len(cur.Content) == 0 {
		return false
	}
	es := d.mappingEntries(o)
	index := map[*yaml.Node]int{}
	for i, e := range es {
		index[e.key] = i
	}
	// The keys' column (o's own position may be that of an anchor or tag).
	keyCol := d.byteCol(es[0].key.Line, es[0].key.Column)
	kept := make([]bool, len(es))
	last := -1
	var pending []*yaml.Node // new pairs waiting for their place
	flush := func(at int, midLine bool) {
		if len(pending) == 0 {
			return
		}
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: pending}
		d.changed(o)
		if d.checkNew(m) {
			text := d.render(m, keyCol, !midLine)
			if midLine {
				text += strings.Repeat(" ", keyCol)
			}
			d.splices = append(d.splices, splice{at, at, text})
		}
		pending = nil
	}
	for i := 0; i+1 < len(cur.Content); i += 2 {
		k, v := cur.Content[i], cur.Content[i+1]
		j, ok := index[d.doc.origOf[k]]
		if !ok || j <= last || d.used[es[j].key] || d.doc.origOf[v] != es[j].val {
			pending = append(pending, k, v)
			continue
		}
		e := es[j]
		d.used[e.key] = true
		if len(pending) > 0 {
			if last >= 0 {
				flush(d.f.lineEnd(es[last].endLine), false)
			} else if e.first {
				flush(d.f.lineStart[e.headLine-1], false)
			} else {
				flush(e.start, true)
			}
		}
		kept[j] = true
		last = j
		if !d.entry(k, v, e, keyCol) {
			return false
		}
	}
	if len(pending) > 0 {
		if last < 0 {
			return false
		}
		flush(d.f.lineEnd(es[last].endLine), false)
	}
	for j, e := range es {
		if kept[j] {
			continue
		}
		if !e.first {
			// The first key of an item (`- name: x`): pull the next key up
			// onto the dash line when it sits right below at the same column.
			if j+1 >= len(es) || !kept[j+1] || !es[j+1].first || es[j+1].headLine != es[j+1].key.Line ||
				d.byteCol(e.key.Line, e.key.Column) != d.byteCol(es[j+1].key.Line, es[j+1].key.Column) {
				return false
			}
			if err := d.checkAnchors(e.val); err != nil {
				d.fail(err)
				return false
			}
			d.changed(e.key)
			d.splices = append(d.splices, splice{e.start, es[j+1].start, ""})
			continue
		}
		d.changed(e.key)
		if err := d.checkAnchors(e.val); err != nil {
			d.fail(err)
			return false
		}
		d.splices = append(d.splices, splice{d.f.lineStart[e.headLine-1], d.f.lineEnd(e.endLine), ""})
	}
	return true
}

// entry splices a kept mapping entry: its key in place when renamed, its
// value through walk, or the whole entry re-rendered.
func (d *differ) entry(k, v *yaml.Node, e entry, keyCol int) bool {
	mark := len(d.splices)
	keyOK := sameShallow(k, e.key) || (k.HeadComment == e.key.HeadComment && d.scalarInPlace(k, e.key, -1, true))
	if keyOK && d.walk(v, e.val, keyCol) {
		return true
	}
	d.splices = d.splices[:mark]
	if d.err != nil {
		return false
	}
	// Re-render the entry over its original lines.
	if err := d.checkAnchors(e.val); err != nil {
		d.fail(err)
		return false
	}
	start, withHead := e.start, false
	if k.HeadComment != e.key.HeadComment {
		if !e.first {
			return false
		}
		start, withHead = d.f.lineStart[e.headLine-1], true
	}
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{trimKey(k, withHead), trimTail(v)}}
	if !d.checkNew(m) {
		return false
	}
	d.splices = append(d.splices, splice{start, d.f.lineEnd(e.endLine), d.render(m, keyCol, withHead)})
	return true
}

// walkSequence is walkMapping for block sequences.
func (d *differ) walkSequence(cur, o *yaml.Node) bool {
	if len(cur.Content) == 0 {
		return false
	}
	if d.f.text[d.offset(o)] != '-' {
		return false // an anchor or tag before the first dash
	}
	es, ok := d.sequenceEntries(o)
	if !ok {
		return false
	}
	index := map[*yaml.Node]int{}
	for i, e := range es {
		index[e.val] = i
	}
	col := d.byteCol(o.Line, o.Column)
	kept := make([]bool, len(es))
	last := -1
	var pending []*yaml.Node
	flush := func(at int, midLine bool) {
		if len(pending) == 0 {
			return
		}
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: pending}
		d.changed(o)
		if d.checkNew(s) {
			text := d.render(s, col, !midLine)
			if midLine {
				text += strings.Repeat(" ", col)
			}
			d.splices = append(d.splices, splice{at, at, text})
		}
		pending = nil
	}
	for _, it := range cur.Content {
		j, ok := index[d.doc.origOf[it]]
		if !ok || j <= last || d.used[es[j].val] {
			pending = append(pending, it)
			continue
		}
		e := es[j]
		if len(pending) > 0 {
			if last >= 0 {
				flush(d.f.lineEnd(es[last].endLine), false)
			} else if e.first {
				flush(d.f.lineStart[e.headLine-1], false)
			} else {
				flush(e.start, true)
			}
		}
		kept[j] = true
		last = j
		if d.walk(it, e.val, col) {
			continue
		}
		if d.err != nil {
			return false
		}
		if err := d.checkAnchors(e.val); err != nil {
			d.fail(err)
			return false
		}
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{trimTail(it)}}
		if !d.checkNew(s) {
			return false
		}
		d.splices = append(d.splices, splice{e.start, d.f.lineEnd(e.endLine), d.render(s, col, false)})
	}
	if len(pending) > 0 {
		if last < 0 {
			return false
		}
		flush(d.f.lineEnd(es[last].endLine), false)
	}
	for j, e := range es {
		if kept[j] {
			continue
		}
		if !e.first {
			return false
		}
		d.changed(e.val)
		d.splices = append(d.splices, splice{d.f.lineStart[e.headLine-1], d.f.lineEnd(e.endLine), ""})
	}
	return true
}

// checkNew refuses to render a subtree holding aliases or anchors.
func (d *differ) checkNew(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		d.fail(fmt.Errorf("%s:%d: %w: cannot render a changed part holding &%s", d.f.Path, n.Line, ErrAlias, n.Anchor+n.Value))
		return false
	}
	for _, c := range n.Content {
		if !d.checkNew(c) {
			return false
		}
	}
	return true
}

// prepare deep-copies a tree for rendering. A key's line comment moves to
// its value when the value is written on the key's line (a scalar or flow
// collection): yaml.v3 would otherwise write the value on the next line at
// the key's indentation.
func prepare(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = nil
	for _, ch := range n.Content {
		c.Content = append(c.Content, prepare(ch))
	}
	// yaml.v3 writes folded scalars with more-indented lines wrongly (the
	// re-read value gains line breaks); literal style keeps them exact.
	if c.Style&yaml.FoldedStyle != 0 && (strings.Contains(c.Value, "\n ") || strings.Contains(c.Value, "\n\t") ||
		strings.HasPrefix(c.Value, " ") || strings.HasPrefix(c.Value, "\t")) {
		c.Style = c.Style&^yaml.FoldedStyle | yaml.LiteralStyle
	}
	if c.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(c.Content); i += 2 {
			k, v := c.Content[i], c.Content[i+1]
			inline := v.Kind == yaml.ScalarNode || v.Kind == yaml.AliasNode || v.Style&yaml.FlowStyle != 0 || len(v.Content) == 0
			if k.LineComment != "" && inline && v.LineComment == "" {
				v.LineComment, k.LineComment = k.LineComment, ""
			}
		}
	}
	return &c
}

// trimKey copies a key for rendering; its head comment stays in the file
// unless withHead.
func trimKey(k *yaml.Node, withHead bool) *yaml.Node {
	c := *k
	if !withHead {
		c.HeadComment = ""
	}
	c.FootComment = ""
	return &c
}

// trimTail copies the chain of last nodes of n without foot comments:
// the original foot comment lines lie after the entry and stay there.
func trimTail(n *yaml.Node) *yaml.Node {
	c := *n
	c.FootComment = ""
	if len(c.Content) > 0 && c.Style&yaml.FlowStyle == 0 {
		c.Content = append([]*yaml.Node(nil), c.Content...)
		last := len(c.Content) - 1
		c.Content[last] = trimTail(c.Content[last])
		if c.Kind == yaml.MappingNode && last >= 1 {
			k := *c.Content[last-1]
			k.FootComment = ""
			c.Content[last-1] = &k
		}
	}
	return &c
}
