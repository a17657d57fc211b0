package manifest

import (
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	yaml "go.yaml.in/yaml/v3"
)

// fastParse parses the plain kind of YAML document most manifests are
// written in (block mappings and sequences of single-line scalars, literal
// and folded text, short flow lists) into the same yaml.Node tree that
// go.yaml.in/yaml/v3 builds, several times faster. It gives up (ok=false)
// on anything else: anchors, aliases, tags, tabs, multi-line plain or quoted
// scalars, JSON spread over lines, unusual indentation and every kind of
// error. The caller then parses the document with go.yaml.in/yaml/v3, so
// what a document yields never depends on which parser read it; the
// differential tests hold the two to the same trees.
//
// The tree only carries what the reader uses: Kind, Tag, Value, Style, Line
// and Content (no columns or comments).
func fastParse(data []byte, fp *fastParser) (*yaml.Node, bool) {
	if !fastText(data) {
		return nil, false
	}
	// The document's text is never changed once it is cut out (see
	// Decoder.split), so its scalars can share its memory.
	fp.reset(unsafe.String(unsafe.SliceData(data), len(data)))
	root, ok := fp.document()
	if !ok {
		return nil, false
	}
	return root, true
}

// fastText reports whether data holds only characters the fast parser
// reads the way go.yaml.in/yaml/v3 does: printable UTF-8 and newlines, no
// tabs, carriage returns or Unicode line breaks.
func fastText(data []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i := 0; i < len(data); {
		if i+8 <= len(data) {
			// Eight bytes at a time while none is below 0x20 or at or
			// above 0x7f. The test may flag a byte that is fine (after
			// one that is not, or a newline), never miss one.
			w := binary.LittleEndian.Uint64(data[i:])
			if ((w-ones*0x20)&^w|(w+ones)|w)&highs == 0 {
				i += 8
				continue
			}
		}
		for end := min(i+8, len(data)); i < end; {
			b := data[i]
			if b < utf8.RuneSelf {
				if b < 0x20 && b != '\n' || b == 0x7f {
					return false
				}
				i++
				continue
			}
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return false
			}
			if !(r >= 0xA0 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF || r >= 0x10000) ||
				r == 0x2028 || r == 0x2029 {
				return false
			}
			i += size
		}
	}
	return true
}

// fastParser holds the state of fastParse and memory reused between
// documents.
type fastParser struct {
	src   string
	lines []fpLine
	cur   int // index in lines of the line being read

	// Nodes and Content slices are cut from slabs, which are reused for the
	// next document once the tree of this one is no longer needed: every
	// node and slice is written over when it is cut again.
	nodes     [][]yaml.Node
	nodeChunk int // the slab being cut, and how much of it is used
	nodeUsed  int
	refs      [][]*yaml.Node
	refChunk  int
	refUsed   int

	stack []*yaml.Node // children of the collections being built

	quoteEnd int // set by quotedLines
}

const (
	nodeSlab = 256
	refSlab  = 1024
)

// fpLine is one line of the document.
type fpLine struct {
	start, end int // offsets of the line's text in src, without its newline
	indent     int // leading spaces
	blank      bool
	newline    bool // the line ends with a newline
}

func (fp *fastParser) reset(src string) {
	fp.src = src
	fp.lines = fp.lines[:0]
	fp.cur = 0
	fp.stack = fp.stack[:0]
	fp.nodeChunk, fp.nodeUsed, fp.refChunk, fp.refUsed = 0, 0, 0, 0
	for start := 0; start < len(src); {
		end := strings.IndexByte(src[start:], '\n')
		nl := end >= 0
		if nl {
			end += start
		} else {
			end = len(src)
		}
		l := fpLine{start: start, end: end, newline: nl}
		for l.start+l.indent < end && src[l.start+l.indent] == ' ' {
			l.indent++
		}
		l.blank = l.start+l.indent == end || src[l.start+l.indent] == '#'
		fp.lines = append(fp.lines, l)
		start = end + 1
	}
}

// trim lets go of the memory a large document needed, and of the text of
// the last one.
func (fp *fastParser) trim() {
	const keep = 16
	if len(fp.nodes) > keep {
		fp.nodes = fp.nodes[:keep]
	}
	if len(fp.refs) > keep {
		fp.refs = fp.refs[:keep]
	}
	if cap(fp.lines) > 1<<16 {
		fp.lines = nil
	}
	fp.src = ""
}

func (fp *fastParser) node(kind yaml.Kind, tag, value string, style yaml.Style, line int) *yaml.Node {
	if fp.nodeChunk < len(fp.nodes) && fp.nodeUsed == len(fp.nodes[fp.nodeChunk]) {
		fp.nodeChunk, fp.nodeUsed = fp.nodeChunk+1, 0
	}
	if fp.nodeChunk == len(fp.nodes) {
		fp.nodes = append(fp.nodes, make([]yaml.Node, nodeSlab))
	}
	n := &fp.nodes[fp.nodeChunk][fp.nodeUsed]
	fp.nodeUsed++
	*n = yaml.Node{Kind: kind, Tag: tag, Value: value, Style: style, Line: line}
	return n
}

// collection makes the children pushed on the stack since mark the Content
// of n.
func (fp *fastParser) collection(n *yaml.Node, mark int) {
	kids := fp.stack[mark:]
	if k := len(kids); k > 0 {
		for fp.refChunk < len(fp.refs) && fp.refUsed+k > len(fp.refs[fp.refChunk]) {
			fp.refChunk, fp.refUsed = fp.refChunk+1, 0
		}
		if fp.refChunk == len(fp.refs) {
			fp.refs = append(fp.refs, make([]*yaml.Node, max(refSlab, k)))
		}
		n.Content = fp.refs[fp.refChunk][fp.refUsed : fp.refUsed+k : fp.refUsed+k]
		fp.refUsed += k
		copy(n.Content, kids)
	}
	clear(kids)
	fp.stack = fp.stack[:mark]
}

// nextContent moves to the next line that is not blank and reports whether
// there is one.
func (fp *fastParser) nextContent() bool {
	for fp.cur < len(fp.lines) && fp.lines[fp.cur].blank {
		fp.cur++
	}
	return fp.cur < len(fp.lines)
}

// document parses the whole document: an optional "---" line, then a block
// mapping or sequence at column 0, and nothing after it.
func (fp *fastParser) document() (*yaml.Node, bool) {
	if len(fp.lines) > 0 && marker([]byte(fp.src[fp.lines[0].start:fp.lines[0].end])) == '-' {
		l := fp.lines[0]
		if rest := strings.TrimLeft(fp.src[l.start+3:l.end], " "); rest != "" && rest[0] != '#' {
			return nil, false
		}
		fp.cur = 1
	}
	if !fp.nextContent() || fp.lines[fp.cur].indent != 0 {
		return nil, false
	}
	root, ok := fp.block(0)
	if !ok || fp.nextContent() {
		return nil, false
	}
	doc := fp.node(yaml.DocumentNode, "", "", 0, 1)
	mark := len(fp.stack)
	fp.stack = append(fp.stack, root)
	fp.collection(doc, mark)
	return doc, true
}

// block parses the block mapping or sequence that starts at column col of
// the current line.
func (fp *fastParser) block(col int) (*yaml.Node, bool) {
	l := fp.lines[fp.cur]
	s := fp.src[l.start+col : l.end]
	if isEntry(s) {
		return fp.sequence(col)
	}
	if _, _, ok := fp.key(l, col, false); ok {
		return fp.mapping(col)
	}
	return nil, false
}

// isEntry reports whether s starts with a sequence entry: "-" followed by a
// space or the end of the line.
func isEntry(s string) bool {
	return len(s) > 0 && s[0] == '-' && (len(s) == 1 || s[1] == ' ')
}

// sequence parses a block sequence whose entries start at column col.
func (fp *fastParser) sequence(col int) (*yaml.Node, bool) {
	seq := fp.node(yaml.SequenceNode, "!!seq", "", 0, fp.cur+1)
	mark := len(fp.stack)
	for {
		l := fp.lines[fp.cur]
		item, ok := fp.entryValue(l, col)
		if !ok {
			return nil, false
		}
		fp.stack = append(fp.stack, item)
		if !fp.nextContent() {
			break
		}
		l = fp.lines[fp.cur]
		if l.indent < col || l.indent == col && !isEntry(fp.src[l.start+col:l.end]) {
			break
		}
		if l.indent > col {
			return nil, false
		}
	}
	fp.collection(seq, mark)
	return seq, true
}

// mapping parses a block mapping whose keys start at column col.
func (fp *fastParser) mapping(col int) (*yaml.Node, bool) {
	m := fp.node(yaml.MappingNode, "!!map", "", 0, fp.cur+1)
	mark := len(fp.stack)
	for {
		l := fp.lines[fp.cur]
		k, after, ok := fp.key(l, col, true)
		if !ok {
			return nil, false
		}
		fp.stack = append(fp.stack, k)
		v, ok := fp.mapValue(l, col, after)
		if !ok {
			return nil, false
		}
		fp.stack = append(fp.stack, v)
		if !fp.nextContent() {
			break
		}
		l = fp.lines[fp.cur]
		if l.indent < col {
			break
		}
		if l.indent > col {
			return nil, false
		}
		if isEntry(fp.src[l.start+col : l.end]) {
			break // the caller's sequence, or an error it finds
		}
	}
	fp.collection(m, mark)
	return m, true
}

// key reads the mapping key at column col of line l (the current line), and
// returns the offset in src just after its ':'. Unless build is set, it only
// reports whether there is a key and returns no node.
func (fp *fastParser) key(l fpLine, col int, build bool) (*yaml.Node, int, bool) {
	start := l.start + col
	s := fp.src[start:l.end]
	line := fp.cur + 1
	if s == "" {
		return nil, 0, false
	}
	switch s[0] {
	case '"', '\'':
		v, n, ok := fp.quoted(s)
		if !ok {
			return nil, 0, false
		}
		rest := strings.TrimLeft(s[n:], " ")
		if len(rest) == 0 || rest[0] != ':' || len(rest) > 1 && rest[1] != ' ' {
			return nil, 0, false
		}
		if !build {
			return nil, 0, true
		}
		style := yaml.DoubleQuotedStyle
		if s[0] == '\'' {
			style = yaml.SingleQuotedStyle
		}
		return fp.node(yaml.ScalarNode, "!!str", v, style, line), l.end - len(rest) + 1, true
	}
	if !plainStart(s) {
		return nil, 0, false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ':':
			if i+1 < len(s) && s[i+1] != ' ' {
				continue
			}
			k := strings.TrimRight(s[:i], " ")
			if len(k) > 1000 || k == "<<" {
				return nil, 0, false
			}
			if !build {
				return nil, 0, true
			}
			return fp.plain(k, line), start + i + 1, true
		case '#':
			if s[i-1] == ' ' {
				return nil, 0, false
			}
		}
	}
	return nil, 0, false
}

// plainStart reports whether s may start a plain scalar in block context.
func plainStart(s string) bool {
	switch s[0] {
	case '-', '?', ':':
		return len(s) > 1 && s[1] != ' '
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

func (fp *fastParser) plain(v string, line int) *yaml.Node {
	n := fp.node(yaml.ScalarNode, "", v, 0, line)
	n.Tag = plainTag(n)
	return n
}

// plainTag is the tag go.yaml.in/yaml/v3 resolves a plain scalar to. Its
// resolver looks at the first character: only a sign, a digit or a dot can
// start a number or a timestamp, which are left to it; the few words it
// knows start with one of "yYnNtTfFoO~", and anything else is a string.
func plainTag(n *yaml.Node) string {
	v := n.Value
	if v == "" {
		return "!!null"
	}
	switch v[0] {
	case '+', '-', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return n.ShortTag()
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		switch v {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			return "!!bool"
		case "~", "null", "Null", "NULL":
			return "!!null"
		}
	}
	return "!!str"
}

// mapValue parses the value of a key of a mapping at column col, whose ':'
// ends at offset after in src (on line l, the current line).
func (fp *fastParser) mapValue(l fpLine, col, after int) (*yaml.Node, bool) {
	rest := fp.src[after:l.end]
	trimmed := strings.TrimLeft(rest, " ")
	if trimmed != "" && trimmed[0] != '#' {
		return fp.inline(l, l.end-len(trimmed), col)
	}
	// The value is on the following lines, or there is none.
	line := fp.cur + 1
	fp.cur++
	if fp.nextContent() {
		next := fp.lines[fp.cur]
		s := fp.src[next.start+next.indent : next.end]
		switch {
		case next.indent > col:
			return fp.nested(next, col)
		case next.indent == col && isEntry(s):
			return fp.sequence(col)
		}
	}
	return fp.node(yaml.ScalarNode, "!!null", "", 0, line), true
}

// entryValue parses the value of the sequence entry at column col of line
// l (the current line).
func (fp *fastParser) entryValue(l fpLine, col int) (*yaml.Node, bool) {
	s := fp.src[l.start+col+1 : l.end]
	trimmed := strings.TrimLeft(s, " ")
	if trimmed != "" && trimmed[0] != '#' {
		at := l.end - len(trimmed)
		if isEntry(trimmed) {
			return nil, false
		}
		if _, _, ok := fp.key(l, at-l.start, false); ok {
			return fp.mapping(at - l.start)
		}
		return fp.inline(l, at, col)
	}
	line := fp.cur + 1
	fp.cur++
	if fp.nextContent() {
		next := fp.lines[fp.cur]
		if next.indent > col {
			return fp.nested(next, col)
		}
	}
	return fp.node(yaml.ScalarNode, "!!null", "", 0, line), true
}

// nested parses the value of a key or entry of a collection at column col
// that starts on a following line, l (the current line): a block collection
// or a scalar.
func (fp *fastParser) nested(l fpLine, col int) (*yaml.Node, bool) {
	s := fp.src[l.start+l.indent : l.end]
	if _, _, ok := fp.key(l, l.indent, false); ok || isEntry(s) {
		return fp.block(l.indent)
	}
	return fp.inline(l, l.start+l.indent, col)
}

// inline parses a value that starts at offset at of line l, within a block
// collection at column col, and moves past it.
func (fp *fastParser) inline(l fpLine, at, col int) (*yaml.Node, bool) {
	s := fp.src[at:l.end]
	line := fp.cur + 1
	var n *yaml.Node
	switch s[0] {
	case '|', '>':
		return fp.blockScalar(s, col, line)
	case '"', '\'':
		v, end, ok := fp.quoted(s)
		if !ok {
			// A quoted scalar may go on over several lines.
			if v, ok = fp.quotedLines(at, col); !ok {
				return nil, false
			}
			l = fp.lines[fp.cur]
			s, end = fp.src[fp.quoteEnd:l.end], 0
		}
		if !restIsComment(s[end:]) {
			return nil, false
		}
		style := yaml.DoubleQuotedStyle
		if fp.src[at] == '\'' {
			style = yaml.SingleQuotedStyle
		}
		n = fp.node(yaml.ScalarNode, "!!str", v, style, line)
	case '[', '{':
		v, end, ok := fp.flow(s, 0, line)
		if !ok || !restIsComment(s[end:]) {
			return nil, false
		}
		n = v
	default:
		if !plainStart(s) {
			return nil, false
		}
		end := len(s)
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case ':':
				if i+1 == len(s) || s[i+1] == ' ' {
					return nil, false
				}
			case '#':
				if s[i-1] == ' ' {
					end = i
					i = len(s)
				}
			}
		}
		v := strings.TrimRight(s[:end], " ")
		if v == "<<" {
			return nil, false
		}
		fp.cur++
		if end == len(s) {
			var ok bool
			if v, ok = fp.continuation(v, col); !ok {
				return nil, false
			}
		}
		n = fp.plain(v, line)
		fp.cur--
	}
	fp.cur++
	// A more indented line after a scalar would continue it, or be an error.
	if fp.nextContent() && fp.lines[fp.cur].indent > col {
		return nil, false
	}
	return n, true
}

// continuation reads the lines that continue plain scalar v, which ended a
// line in a collection at column col, folding them in: a line break between
// two lines becomes a space, and each empty line a line break. It stops
// before the first line that does not continue the scalar.
func (fp *fastParser) continuation(v string, col int) (string, bool) {
	var b strings.Builder
	breaks := 0
	for j := fp.cur; j < len(fp.lines); j++ {
		l := fp.lines[j]
		if l.start+l.indent == l.end {
			breaks++
			continue
		}
		if l.blank || l.indent <= col {
			break
		}
		text := strings.TrimRight(fp.src[l.start+l.indent:l.end], " ")
		for i := 0; i < len(text); i++ {
			switch text[i] {
			case ':':
				if i+1 == len(text) || text[i+1] == ' ' {
					return "", false
				}
			case '#':
				if i > 0 && text[i-1] == ' ' {
					return "", false
				}
			}
		}
		if b.Len() == 0 {
			b.WriteString(v)
		}
		if breaks == 0 {
			b.WriteByte(' ')
		}
		for ; breaks > 0; breaks-- {
			b.WriteByte('\n')
		}
		b.WriteString(text)
		fp.cur = j + 1
	}
	if b.Len() == 0 {
		return v, true
	}
	return b.String(), true
}

// quotedLines reads a quoted scalar that starts at offset at of the current
// line and goes on over the following lines, which must be indented past
// col. Line breaks fold as in plain scalars; white space around them is
// dropped, and a backslash before a break in a double-quoted scalar joins
// the lines. On success the current line is the one with the closing quote,
// and fp.quoteEnd the offset just past it.
func (fp *fastParser) quotedLines(at, col int) (string, bool) {
	q := fp.src[at]
	var b []byte
	pos := at + 1
	for {
		l := fp.lines[fp.cur]
		keep := len(b) // b without the trailing white space of this line
		joined := false
		for pos < l.end {
			c := fp.src[pos]
			switch {
			case c == q && q == '\'' && pos+1 < l.end && fp.src[pos+1] == '\'':
				b = append(b, '\'')
				pos += 2
				keep = len(b)
				continue
			case c == q:
				fp.quoteEnd = pos + 1
				return string(b), true
			case c == '\\' && q == '"':
				if pos+1 == l.end {
					joined = true
					pos++
					continue
				}
				end := pos + 2
				if fp.src[pos+1] == 'u' {
					end = pos + 6
				}
				if end > l.end {
					return "", false
				}
				v, n, ok := fp.quoted(`"` + fp.src[pos:end] + `"`)
				if !ok || n != end-pos+2 {
					return "", false
				}
				b = append(b, v...)
				pos = end
				keep = len(b)
				continue
			}
			b = append(b, c)
			pos++
			if c != ' ' {
				keep = len(b)
			}
		}
		if !joined {
			b = b[:keep]
		}
		// The break, the empty lines after it, and the next line's indentation.
		if !l.newline {
			return "", false
		}
		breaks := 0
		for fp.cur++; fp.cur < len(fp.lines); fp.cur++ {
			n := fp.lines[fp.cur]
			if n.start+n.indent < n.end {
				break
			}
			if !n.newline {
				return "", false
			}
			breaks++
		}
		if fp.cur == len(fp.lines) || fp.lines[fp.cur].indent <= col {
			return "", false
		}
		switch {
		case joined && breaks > 0:
			return "", false
		case joined:
		case breaks == 0:
			b = append(b, ' ')
		default:
			for ; breaks > 0; breaks-- {
				b = append(b, '\n')
			}
		}
		l = fp.lines[fp.cur]
		pos = l.start + l.indent
	}
}

// restIsComment reports whether s holds only spaces and a comment.
func restIsComment(s string) bool {
	t := strings.TrimLeft(s, " ")
	return t == "" || t[0] == '#' && len(t) < len(s)
}

// quoted reads the single- or double-quoted scalar that starts s and returns
// its value and the offset just past the closing quote. Only scalars that
// end on the same line and use common escapes are read.
func (fp *fastParser) quoted(s string) (string, int, bool) {
	q := s[0]
	if q == '\'' {
		var b []byte
		for i := 1; i < len(s); i++ {
			if s[i] != '\'' {
				if b != nil {
					b = append(b, s[i])
				}
				continue
			}
			if i+1 < len(s) && s[i+1] == '\'' {
				if b == nil {
					b = append([]byte(nil), s[1:i]...)
				}
				b = append(b, '\'')
				i++
				continue
			}
			if b == nil {
				return s[1:i], i + 1, true
			}
			return string(b), i + 1, true
		}
		return "", 0, false
	}
	var b []byte
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			if b == nil {
				return s[1:i], i + 1, true
			}
			return string(b), i + 1, true
		case '\\':
			if b == nil {
				b = append([]byte(nil), s[1:i]...)
			}
			if i+1 >= len(s) {
				return "", 0, false
			}
			i++
			switch s[i] {
			case '\\', '"', '/':
				b = append(b, s[i])
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			case 'r':
				b = append(b, '\r')
			case '0':
				b = append(b, 0)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'u':
				if i+4 >= len(s) {
					return "", 0, false
				}
				r, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
				if err != nil || r >= 0xD800 && r <= 0xDFFF {
					return "", 0, false
				}
				b = utf8.AppendRune(b, rune(r))
				i += 4
			default:
				return "", 0, false
			}
		default:
			if b != nil {
				b = append(b, c)
			}
		}
	}
	return "", 0, false
}

// flow reads a flow sequence or mapping that starts at s[i] and ends on the
// same line, and returns the offset just past it.
func (fp *fastParser) flow(s string, i, line int) (*yaml.Node, int, bool) {
	open := s[i]
	closer := byte(']')
	kind, tag := yaml.SequenceNode, "!!seq"
	if open == '{' {
		closer, kind, tag = '}', yaml.MappingNode, "!!map"
	}
	n := fp.node(kind, tag, "", yaml.FlowStyle, line)
	mark := len(fp.stack)
	i = skipSpaces(s, i+1)
	if i < len(s) && s[i] == closer {
		fp.collection(n, mark)
		return n, i + 1, true
	}
	for {
		if kind == yaml.MappingNode {
			k, end, ok := fp.flowScalar(s, i, line, true)
			if !ok || k.Kind != yaml.ScalarNode {
				return nil, 0, false
			}
			i = skipSpaces(s, end)
			if i+1 >= len(s) || s[i] != ':' || s[i+1] != ' ' && k.Style == 0 {
				return nil, 0, false
			}
			fp.stack = append(fp.stack, k)
			i = skipSpaces(s, i+1)
		}
		var v *yaml.Node
		var end int
		var ok bool
		if i < len(s) && (s[i] == '[' || s[i] == '{') {
			v, end, ok = fp.flow(s, i, line)
		} else {
			v, end, ok = fp.flowScalar(s, i, line, false)
		}
		if !ok {
			return nil, 0, false
		}
		fp.stack = append(fp.stack, v)
		i = skipSpaces(s, end)
		if i >= len(s) {
			return nil, 0, false
		}
		switch s[i] {
		case closer:
			fp.collection(n, mark)
			return n, i + 1, true
		case ',':
			i = skipSpaces(s, i+1)
			if i >= len(s) || s[i] == closer || s[i] == ',' {
				return nil, 0, false
			}
		default:
			return nil, 0, false
		}
	}
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// flowScalar reads a quoted or plain scalar inside a flow collection; a
// plain key ends at ": ".
func (fp *fastParser) flowScalar(s string, i, line int, key bool) (*yaml.Node, int, bool) {
	if i >= len(s) {
		return nil, 0, false
	}
	switch s[i] {
	case '"', '\'':
		v, n, ok := fp.quoted(s[i:])
		if !ok {
			return nil, 0, false
		}
		style := yaml.DoubleQuotedStyle
		if s[i] == '\'' {
			style = yaml.SingleQuotedStyle
		}
		return fp.node(yaml.ScalarNode, "!!str", v, style, line), i + n, true
	}
	if !plainStart(s[i:]) {
		return nil, 0, false
	}
	j := i
	for ; j < len(s); j++ {
		switch s[j] {
		case ':':
			if !key || j+1 >= len(s) || s[j+1] != ' ' {
				return nil, 0, false
			}
			fallthrough
		case ',', ']', '}':
			v := strings.TrimRight(s[i:j], " ")
			if v == "" || v == "<<" {
				return nil, 0, false
			}
			return fp.plain(v, line), j, true
		case '#', '[', '{', '?':
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// blockScalar reads a literal (|) or folded (>) scalar whose header s is on
// the current line, inside a block collection at column col. It follows
// the scanner of go.yaml.in/yaml/v3 (itself a port of libyaml) step by step.
func (fp *fastParser) blockScalar(s string, col, line int) (*yaml.Node, bool) {
	literal := s[0] == '|'
	chomp := 0 // -1 strip, 0 clip, 1 keep
	i := 1
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		chomp = 1
		if s[i] == '-' {
			chomp = -1
		}
		i++
	}
	if !restIsComment(s[i:]) {
		return nil, false // an indentation indicator, or text
	}
	// Leading empty lines, then the first line of text sets the indentation.
	j := fp.cur + 1
	indent, maxEmpty, trailing := 0, 0, 0
	for ; j < len(fp.lines); j++ {
		l := fp.lines[j]
		if l.start+l.indent < l.end {
			indent = l.indent
			break
		}
		if !l.newline {
			return nil, false
		}
		maxEmpty = max(maxEmpty, l.indent)
		trailing++
	}
	if j == len(fp.lines) || indent <= col || maxEmpty > indent {
		return nil, false
	}
	var b strings.Builder
	last := -1 // the last line of text
	leadingBreak, leadingBlank := false, false
	for j < len(fp.lines) {
		l := fp.lines[j]
		if l.indent < indent {
			break
		}
		text := fp.src[l.start+indent : l.end]
		trailingBlank := text != "" && text[0] == ' '
		if !literal && leadingBreak && !leadingBlank && !trailingBlank {
			if trailing == 0 {
				b.WriteByte(' ')
			}
		} else if leadingBreak {
			b.WriteByte('\n')
		}
		for ; trailing > 0; trailing-- {
			b.WriteByte('\n')
		}
		leadingBlank = trailingBlank
		b.WriteString(text)
		leadingBreak = l.newline
		last = j
		// The empty lines that follow.
		for j++; j < len(fp.lines); j++ {
			e := fp.lines[j]
			if e.start+e.indent < e.end || e.indent > indent {
				break
			}
			if !e.newline {
				return nil, false
			}
			trailing++
		}
	}
	if chomp >= 0 && leadingBreak {
		b.WriteByte('\n')
	}
	if chomp > 0 {
		for ; trailing > 0; trailing-- {
			b.WriteByte('\n')
		}
	}
	style := yaml.LiteralStyle
	if !literal {
		style = yaml.FoldedStyle
	}
	n := fp.node(yaml.ScalarNode, "!!str", b.String(), style, line)
	fp.cur = last + 1
	if fp.nextContent() && fp.lines[fp.cur].indent > col {
		return nil, false
	}
	return n, true
}
