package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// File is a parsed YAML file: its original text and one Document per
// `---`-separated part.
type File struct {
	// Path names the file in errors; it is never opened.
	Path string

	src  []byte // the original bytes
	text []byte // src with CRLF turned into LF and a final newline added
	crlf bool   // src used CRLF line endings
	bom  bool   // src started with a UTF-8 byte order mark, not kept in text
	eol  bool   // src ended with a newline (or was empty)
	// lineStart[i] is the offset in text of line i+1.
	lineStart []int
	docs      []*Document
}

// Document is one YAML document of a File.
type Document struct {
	// Index is the position of the document in the file, from 0; empty
	// documents (only comments, or nothing between two `---`) count too.
	Index int
	// StartLine and EndLine are the first and last lines (from 1) of the
	// document's text, including its `---` marker and comments.
	StartLine, EndLine int
	// Offset and End are the byte range of the document in the original
	// file (End exclusive).
	Offset, End int

	node *yaml.Node // the DocumentNode, nil for an empty document
	orig *yaml.Node // deep copy of node as parsed
	// origOf maps every node of the parsed tree to its copy in orig.
	origOf map[*yaml.Node]*yaml.Node
	// parent maps each node of orig to its parent in orig.
	parent map[*yaml.Node]*yaml.Node
	// start, end are the offsets of the document in File.text.
	start, end int
}

// Root returns the root node of the document (a mapping for a Kubernetes
// object), or nil for an empty document (nothing, only comments, or a null
// such as `--- ~`). Edit it in place.
func (d *Document) Root() *yaml.Node {
	if d.node == nil || len(d.node.Content) == 0 || d.node.Content[0].Tag == "!!null" {
		return nil
	}
	return d.node.Content[0]
}

// Node returns the document's DocumentNode, which holds comments above the
// root, or nil for an empty document.
func (d *Document) Node() *yaml.Node { return d.node }

// Documents returns the documents of the file in order.
func (f *File) Documents() []*Document { return f.docs }

// ErrMixedLineEndings is returned by Parse for a file that mixes CRLF and
// LF line endings: it could not be written back unchanged.
var ErrMixedLineEndings = errors.New("mixed CRLF and LF line endings")

const utf8BOM = "\ufeff"

var errLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse reads the documents of a YAML file. path is used in error messages
// only. Invalid YAML is an error naming path:line. Files with CRLF line
// endings are kept in CRLF; files that mix CRLF and LF are refused.
func Parse(path string, src []byte) (*File, error) {
	f := &File{Path: path, src: src}
	text := src
	if bytes.HasPrefix(text, []byte(utf8BOM)) {
		f.bom = true
		text = text[len(utf8BOM):]
	}
	if bytes.Contains(src, []byte("\r\n")) {
		if n := bytes.Count(src, []byte("\n")); n != bytes.Count(src, []byte("\r\n")) {
			line := 1 + bytes.Count(src[:firstLoneLF(src)], []byte("\n"))
			return nil, fmt.Errorf("%s:%d: %w", path, line, ErrMixedLineEndings)
		}
		f.crlf = true
		text = bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n"))
	}
	f.eol = len(text) == 0 || text[len(text)-1] == '\n'
	if !f.eol {
		text = append(append([]byte(nil), text...), '\n')
	}
	f.text = text
	f.lineStart = []int{0}
	for i, c := range text {
		if c == '\n' && i+1 < len(text) {
			f.lineStart = append(f.lineStart, i+1)
		}
	}
	if len(text) == 0 {
		f.lineStart = nil
	}
	for i, seg := range f.segments() {
		doc := &Document{Index: i, start: seg[0], end: seg[1]}
		doc.StartLine = f.lineOf(seg[0])
		doc.EndLine = f.lineOf(seg[1] - 1)
		doc.Offset, doc.End = f.srcOffset(seg[0]), f.srcOffset(seg[1])
		var n yaml.Node
		if err := yaml.Unmarshal(text[seg[0]:seg[1]], &n); err != nil {
			return nil, f.parseError(err, doc.StartLine)
		}
		if n.Kind != 0 {
			shiftLines(&n, doc.StartLine-1, map[*yaml.Node]bool{})
			doc.node = &n
			doc.origOf = map[*yaml.Node]*yaml.Node{}
			doc.parent = map[*yaml.Node]*yaml.Node{}
			doc.orig = deepCopy(&n, doc.origOf)
			recordParents(doc.orig, doc.parent)
		}
		f.docs = append(f.docs, doc)
	}
	return f, nil
}

func firstLoneLF(src []byte) int {
	for i, c := range src {
		if c == '\n' && (i == 0 || src[i-1] != '\r') {
			return i
		}
	}
	return 0
}

func (f *File) parseError(err error, startLine int) error {
	if m := errLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return fmt.Errorf("%s:%d: %s", f.Path, n+startLine-1, m[2])
	}
	return fmt.Errorf("%s:%d: %w", f.Path, startLine, err)
}

// srcOffset turns an offset in f.text into one in f.src.
func (f *File) srcOffset(off int) int {
	if off > len(f.text) {
		off = len(f.text)
	}
	if off == 0 {
		return 0 // the first document starts with the byte order mark
	}
	if f.crlf {
		off += bytes.Count(f.text[:off], []byte("\n"))
	}
	if f.bom {
		off += len(utf8BOM)
	}
	if off > len(f.src) {
		off = len(f.src)
	}
	return off
}

// lineOf returns the line (from 1) that holds offset off of f.text.
func (f *File) lineOf(off int) int {
	lo, hi := 0, len(f.lineStart)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if f.lineStart[mid] <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + 1
}

// line returns the text of line n (from 1) without its newline.
func (f *File) line(n int) string {
	if n < 1 || n > len(f.lineStart) {
		return ""
	}
	s := f.lineStart[n-1]
	e := f.lineEnd(n) - 1
	return string(f.text[s:e])
}

// lineEnd returns the offset just past the newline of line n.
func (f *File) lineEnd(n int) int {
	if n >= len(f.lineStart) {
		return len(f.text)
	}
	return f.lineStart[n]
}

// isMarker reports whether line starts with the document marker m (`---` or
// `...`) followed by nothing or a blank. YAML forbids such a line inside a
// document, so splitting on it is exact.
func isMarker(line []byte, m string) bool {
	if !bytes.HasPrefix(line, []byte(m)) {
		return false
	}
	rest := line[3:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n'
}

// isBlankOrComment reports whether a line holds no YAML content.
func isBlankOrComment(line []byte) bool {
	t := bytes.TrimLeft(line, " \t")
	return len(t) == 0 || t[0] == '\n' || t[0] == '#'
}

// segments splits f.text into the byte ranges of its documents. Leading
// comments belong to the first document; `...` ends a document.
func (f *File) segments() [][2]int {
	var segs [][2]int
	start := 0
	content := false // the current segment has content or a marker
	for i, ls := range f.lineStart {
		line := f.text[ls:f.lineEnd(i+1)]
		switch {
		case isMarker(line, "---"):
			if content {
				segs = append(segs, [2]int{start, ls})
				start = ls
			}
			content = true
		case isMarker(line, "..."):
			end := f.lineEnd(i + 1)
			segs = append(segs, [2]int{start, end})
			start, content = end, false
		case !isBlankOrComment(line):
			content = true
		}
	}
	if start < len(f.text) || len(segs) == 0 {
		if !content && len(segs) > 0 {
			// Trailing comments after `...` stay with the last document.
			segs[len(segs)-1][1] = len(f.text)
		} else {
			segs = append(segs, [2]int{start, len(f.text)})
		}
	}
	return segs
}

func shiftLines(n *yaml.Node, by int, seen map[*yaml.Node]bool) {
	if seen[n] {
		return
	}
	seen[n] = true
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by, seen)
	}
}

func deepCopy(n *yaml.Node, origOf map[*yaml.Node]*yaml.Node) *yaml.Node {
	c := *n
	c.Content = nil
	for _, ch := range n.Content {
		c.Content = append(c.Content, deepCopy(ch, origOf))
	}
	origOf[n] = &c
	return &c
}

func recordParents(n *yaml.Node, parent map[*yaml.Node]*yaml.Node) {
	for _, c := range n.Content {
		parent[c] = n
		recordParents(c, parent)
	}
}
