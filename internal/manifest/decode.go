package manifest

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Decoder reads manifest documents from streams. It caches what it learns
// about API types, so one Decoder should serve a whole run. It is safe for
// concurrent use: documents of every stream it reads share opts.Concurrency
// parsers.
type Decoder struct {
	opts  Options
	types *typeChecker
	// parsers holds a token for each document being parsed.
	parsers chan struct{}
	// readers recycles the read buffers of streams.
	readers sync.Pool
	// fast holds idle fast parsers with their memory, for the next
	// document (unlike a sync.Pool it keeps them through garbage
	// collections); bufs recycles the splitters' scratch space.
	fast chan *fastParser
	bufs sync.Pool
}

// NewDecoder returns a Decoder with opts (zero fields take their defaults).
func NewDecoder(opts Options) *Decoder {
	opts = opts.withDefaults()
	d := &Decoder{opts: opts, types: newTypeChecker(), parsers: make(chan struct{}, opts.Concurrency),
		fast: make(chan *fastParser, opts.Concurrency)}
	d.readers.New = func() any { return bufio.NewReaderSize(nil, 64<<10) }
	return d
}

// Decode reads every document of r, naming it path in origins. Problems inside
// the stream are returned as Invalid entries and do not stop it; the error is
// for a failed read of r or a cancelled ctx, with what was read until then.
// Objects and invalid documents come in stream order.
//
// r is cut into documents as it is read and the documents are parsed in
// parallel, so memory holds a few documents of r, not all of it.
func (d *Decoder) Decode(ctx context.Context, r io.Reader, path string) ([]snapshot.Object, []snapshot.Invalid, error) {
	br := d.readers.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		d.readers.Put(br)
	}()
	return d.decode(ctx, newSplitter(br, d.opts.MaxDocumentBytes, d.opts.MaxFileBytes), path)
}

// decodeBytes is Decode for an input read whole, which must not change
// afterwards: the documents are cut from it without copying.
func (d *Decoder) decodeBytes(ctx context.Context, src []byte, path string) ([]snapshot.Object, []snapshot.Invalid, error) {
	return d.decode(ctx, newSliceSplitter(src, d.opts.MaxDocumentBytes, d.opts.MaxFileBytes), path)
}

func (d *Decoder) decode(ctx context.Context, sp *splitter, path string) ([]snapshot.Object, []snapshot.Invalid, error) {
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		out docResult
	)
	collect := func(res docResult) {
		mu.Lock()
		out.objects = append(out.objects, res.objects...)
		out.invalid = append(out.invalid, res.invalid...)
		mu.Unlock()
	}
	fail := func(line, doc int, reason string) {
		collect(docResult{invalid: []snapshot.Invalid{{
			Origin: snapshot.Origin{Path: path, Line: line, Document: doc, Item: -1},
			Reason: reason,
		}}})
	}
	type job struct {
		data      []byte
		line, doc int
	}
	run := func(j job) {
		dr := docReader{d: d, path: path, doc: j.doc}
		dr.document(j.data, j.line)
		collect(dr.docResult)
	}
	// parse hands one document to a parser, waiting for a free one. The
	// last document of the stream is parsed by the caller's goroutine once
	// the stream ends (so is the only document of most files), which saves
	// starting a goroutine and growing its stack.
	var held *job
	parse := func(data []byte, line, doc int) error {
		if held != nil {
			select {
			case d.parsers <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			wg.Add(1)
			go func(j job) {
				defer wg.Done()
				defer func() { <-d.parsers }()
				run(j)
			}(*held)
		}
		held = &job{data, line, doc}
		return nil
	}

	err := d.split(ctx, sp, path, parse, fail)
	if held != nil {
		select {
		case d.parsers <- struct{}{}:
			run(*held)
			<-d.parsers
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
		}
	}
	wg.Wait()
	slices.SortStableFunc(out.objects, func(a, b snapshot.Object) int {
		return cmp.Or(cmp.Compare(a.Origin.Document, b.Origin.Document), cmp.Compare(a.Origin.Item, b.Origin.Item))
	})
	slices.SortStableFunc(out.invalid, func(a, b snapshot.Invalid) int {
		return cmp.Or(cmp.Compare(a.Origin.Document, b.Origin.Document), cmp.Compare(a.Origin.Item, b.Origin.Item),
			cmp.Compare(a.Origin.Line, b.Origin.Line))
	})
	return out.objects, out.invalid, err
}

// split cuts the input of sp into documents and hands each to parse, with
// its first line and index. Documents that cannot be parsed at all go to
// fail.
func (d *Decoder) split(ctx context.Context, sp *splitter, path string,
	parse func(data []byte, line, doc int) error, fail func(line, doc int, reason string)) error {
	// The splitter's scratch space is kept for the next stream too, unless
	// a huge document made it huge.
	if buf, ok := d.bufs.Get().(*[]byte); ok {
		sp.buf = (*buf)[:0]
	}
	defer func() {
		if cap(sp.buf) <= 4<<20 {
			buf := sp.buf[:0]
			d.bufs.Put(&buf)
		}
	}()
	doc := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := sp.next()
		if err == io.EOF {
			return nil
		}
		var big errFileTooLarge
		if errors.As(err, &big) {
			fail(sp.line+1, doc, fmt.Sprintf("input is larger than the limit of %s (--max-file-size); the rest was not read",
				formatSize(d.opts.MaxFileBytes)))
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %q: %w", path, err)
		}
		switch {
		case c.empty:
			doc++
			continue
		case c.size > 0:
			fail(c.line, doc, fmt.Sprintf("document is %s, larger than the limit of %s (--max-document-size)",
				formatSize(c.size), formatSize(d.opts.MaxDocumentBytes)))
			doc++
			continue
		}
		// One document, except for JSON values written one after the
		// other, which are split apart and counted as documents of their own.
		data, line := c.data, c.line
		for {
			rest, restLine, more := splitJSON(data, line)
			piece := data
			if more {
				piece = data[:len(data)-len(rest)]
			}
			if !c.shared {
				piece = bytes.Clone(piece)
			}
			if err := parse(piece, line, doc); err != nil {
				return err
			}
			doc++
			if !more {
				break
			}
			data, line = rest, restLine
		}
	}
}

// docResult is what one document, or one stream, yields.
type docResult struct {
	objects []snapshot.Object
	invalid []snapshot.Invalid
}

// docReader reads one document.
type docReader struct {
	d    *Decoder
	path string
	doc  int
	conv converter
	docResult
}

func (st *docReader) add(line, item int, reason string) {
	st.invalid = append(st.invalid, snapshot.Invalid{
		Origin: snapshot.Origin{Path: st.path, Line: line, Document: st.doc, Item: item},
		Reason: reason,
	})
}

// document parses and reads one YAML document that starts at line of the file.
func (st *docReader) document(data []byte, line int) {
	// Most documents are plain enough for the fast parser; it leaves the
	// others, and every broken one, to go.yaml.in/yaml/v3.
	var fp *fastParser
	select {
	case fp = <-st.d.fast:
	default:
		fp = new(fastParser)
	}
	defer func() {
		fp.trim()
		select {
		case st.d.fast <- fp:
		default:
		}
	}()
	if root, ok := fastParse(data, fp); ok {
		st.node(root, data, line)
		return
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := parseNode(dec, &root)
	if err == io.EOF {
		return
	}
	if err != nil {
		at, msg := syntaxError(data, err)
		st.add(at+line-1, -1, msg)
		return
	}
	// Whatever follows the document in the same text makes it invalid.
	var extra yaml.Node
	switch err := parseNode(dec, &extra); {
	case err == io.EOF:
		st.node(&root, data, line)
	case err != nil:
		at, msg := syntaxError(data, err)
		st.add(at+line-1, -1, msg)
	default:
		st.add(extra.Line+line-1, -1, "a second document starts without a \"---\" line before it")
	}
}

// parseNode parses the next document of dec. A panic in the parser, which
// should not happen but would otherwise end the whole run over one file,
// becomes an error.
func parseNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed: %v", r)
		}
	}()
	return dec.Decode(n)
}

// node reads the parsed document root.
func (st *docReader) node(root *yaml.Node, data []byte, line int) {
	n := root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	c := &st.conv
	c.reset(data, line-1, root)
	c.minBudget, c.ratio = st.d.opts.AliasBudget, st.d.opts.AliasRatio
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return // "~" or "null": nothing there
		}
		st.add(c.line(n), -1, fmt.Sprintf("document is a %s, not an object with apiVersion and kind", scalarName(n)))
		return
	case yaml.SequenceNode:
		st.add(c.line(n), -1, "document is a list, not an object with apiVersion and kind")
		return
	default:
		return
	}
	apiVersion, kind, _ := typeFields(n)
	if items, ok := listItems(n, kind); ok {
		st.list(n, items, apiVersion, kind)
		return
	}
	st.object(n, -1, "", "")
}

// list expands the items of a List or of a typed list such as PodList.
func (st *docReader) list(n, items *yaml.Node, apiVersion, kind string) {
	c := &st.conv
	// The list's own keys are not kept, but a duplicate among them is still
	// a broken document.
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn := n.Content[i]
		if kn.Kind != yaml.ScalarNode {
			continue
		}
		if seen[kn.Value] {
			st.add(c.line(kn), -1, fmt.Sprintf("duplicate key %q (first defined at line %d)", kn.Value, c.firstKeyLine(n, kn.Value, i)))
			return
		}
		seen[kn.Value] = true
	}
	for items.Kind == yaml.AliasNode && items.Alias != nil {
		items = items.Alias
	}
	switch {
	case isNull(items):
		return
	case items.Kind != yaml.SequenceNode:
		st.add(c.line(items), -1, fmt.Sprintf("%s items is not a list", kind))
		return
	}
	// Items of a typed list may leave out their apiVersion and kind.
	itemKind := ""
	if kind != "List" {
		itemKind = strings.TrimSuffix(kind, "List")
	}
	for i, item := range items.Content {
		st.object(item, i, apiVersion, itemKind)
		if c.halted {
			return
		}
	}
}

// object reads one object: a whole document, or item of a list. apiVersion
// and kind are used when the object has none (items of a typed list).
func (st *docReader) object(n *yaml.Node, item int, apiVersion, kind string) {
	c := &st.conv
	c.problems = c.problems[:0]
	c.path = c.path[:0]
	c.depth = 0
	c.full = false
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		what := "a list"
		if n.Kind == yaml.ScalarNode {
			what = "a " + scalarName(n)
		}
		st.add(c.line(n), item, fmt.Sprintf("item is %s, not an object with apiVersion and kind", what))
		return
	}
	line := c.line(n)
	if len(n.Content) > 0 {
		line = c.line(n.Content[0])
	}
	av, k, bad := typeFields(n)
	inferred := false
	if av == "" && k == "" && bad == "" && kind != "" {
		av, k, inferred = apiVersion, kind, true
	}
	// A Secret's values never appear in a reason, and neither do those of an
	// object whose kind cannot be read (it may be a Secret).
	c.redact = k == "Secret" || k == "SecretList" || k == ""
	reason := bad
	switch {
	case reason != "":
	case av == "" && k == "":
		reason = "missing apiVersion and kind: not a Kubernetes object"
	case av == "":
		reason = "missing apiVersion"
	case k == "":
		reason = "missing kind"
	}
	if reason != "" {
		st.add(line, item, reason)
		// The object is lost, but duplicate keys and the like are still worth
		// reporting.
		c.value(n, nil, false)
		st.addProblems(item, "")
		return
	}
	l := st.d.types.lookup(av, k)
	info, checkedAs := l.info, l.checkedAs
	v := c.value(n, info, false)
	if len(c.problems) > 0 {
		note := ""
		if checkedAs != "" {
			note = fmt.Sprintf(" (%s is not a known version; checked as %s %s)", av, checkedAs, k)
		}
		st.addProblems(item, note)
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if inferred {
		m["apiVersion"], m["kind"] = av, k
	}
	st.objects = append(st.objects, snapshot.Object{
		Unstructured: &unstructured.Unstructured{Object: m},
		Origin:       snapshot.Origin{Path: st.path, Line: line, Document: st.doc, Item: item},
	})
}

func (st *docReader) addProblems(item int, note string) {
	for _, p := range st.conv.problems {
		st.add(p.line, item, p.reason+note)
	}
	st.conv.problems = st.conv.problems[:0]
}

// typeFields returns the apiVersion and kind of mapping n, or a reason when
// either is not a string.
func typeFields(n *yaml.Node) (apiVersion, kind, bad string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || (k.Value != "apiVersion" && k.Value != "kind") {
			continue
		}
		v := n.Content[i+1]
		for v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if isNull(v) {
			continue
		}
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
			what := "a list"
			switch v.Kind {
			case yaml.MappingNode:
				what = "an object"
			case yaml.ScalarNode:
				what = "a " + scalarName(v)
			}
			if bad == "" {
				bad = fmt.Sprintf("%s is %s, not a string", k.Value, what)
			}
			continue
		}
		if k.Value == "apiVersion" && apiVersion == "" {
			apiVersion = v.Value
		} else if k.Value == "kind" && kind == "" {
			kind = v.Value
		}
	}
	return apiVersion, kind, bad
}

// listItems returns the items of a list document: kind List or any kind
// ending in "List" that has an items key.
func listItems(n *yaml.Node, kind string) (*yaml.Node, bool) {
	if !strings.HasSuffix(kind, "List") {
		return nil, false
	}
	items := mapValue(n, "items")
	return items, items != nil
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalarName(n *yaml.Node) string {
	switch n.Tag {
	case "!!int":
		return "number"
	case "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	}
	return "string"
}

var (
	errLine   = regexp.MustCompile(`^yaml: line (\d+): `)
	errAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced`)
)

// syntaxError returns the 1-based line (in data) and the message of a YAML
// parse error. go.yaml.in/yaml/v3 reports the line where the enclosing
// construct started rather than the offending line, and none at all on the
// first line, so the line is found again: it is the shortest prefix of the
// document that fails with the same message.
func syntaxError(data []byte, err error) (int, string) {
	full := err.Error()
	msg := strings.TrimPrefix(errLine.ReplaceAllString(full, ""), "yaml: ")
	reason := "invalid YAML: " + msg
	reported := 1
	if m := errLine.FindStringSubmatch(full); m != nil {
		reported, _ = strconv.Atoi(m[1])
	}
	if m := errAnchor.FindStringSubmatch(full); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			return 1 + bytes.Count(data[:i], []byte("\n")), reason
		}
		return reported, reason
	}
	const maxSearch = 4 << 20 // bisecting costs log2(lines) parses
	if len(data) > maxSearch {
		return reported, reason
	}
	ends := []int{}
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	fails := func(lines int) bool {
		var n yaml.Node
		err := parseNode(yaml.NewDecoder(bytes.NewReader(data[:ends[lines-1]])), &n)
		return err != nil && strings.TrimPrefix(errLine.ReplaceAllString(err.Error(), ""), "yaml: ") == msg
	}
	lo, hi := 1, len(ends)
	if !fails(hi) {
		return reported, reason
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, reason
}

// splitJSON reports whether data is a JSON (or flow YAML) value followed by
// another one, as in a stream of concatenated JSON objects, and if so returns
// the text after the first value and its line. It only looks at brackets and
// quotes: a text it misreads is left whole for the parser to judge.
func splitJSON(data []byte, line int) ([]byte, int, bool) {
	start := firstSignificant(data)
	if start < 0 || (data[start] != '{' && data[start] != '[') {
		return nil, 0, false
	}
	depth := 0
	var quote byte // the quote of the string being read, or 0
	prev := byte('{')
	for i := start; i < len(data); i++ {
		b := data[i]
		if quote != 0 {
			switch {
			case b == '\\' && quote == '"':
				i++
			case b == quote:
				quote = 0
			}
			continue
		}
		switch b {
		case '"':
			quote = b
		case '\'':
			// A single quote opens a string only where a token starts
			// (YAML flow style); inside a word it is just a letter.
			if strings.IndexByte("{[,:", prev) >= 0 {
				quote = b
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				rest := data[i+1:]
				next := firstSignificant(rest)
				if next < 0 || (rest[next] != '{' && rest[next] != '[') {
					return nil, 0, false
				}
				// The rest may start in the middle of a line; only its
				// line number matters.
				cut := i + 1
				return data[cut:], line + bytes.Count(data[:cut], []byte("\n")), true
			}
		}
		switch b {
		case ' ', '\t', '\r', '\n':
		default:
			prev = b
		}
	}
	return nil, 0, false
}

// firstSignificant returns the index of the first byte of data that is not
// white space, a comment or a "---" marker, or -1.
func firstSignificant(data []byte) int {
	i := 0
	if marker(data) == '-' {
		i = 3
	}
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
		default:
			return i
		}
	}
	return -1
}

func formatSize(n int64) string {
	const mib = 1 << 20
	switch {
	case n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	case n >= mib:
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
