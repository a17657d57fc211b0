package manifest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxProblems is how many problems one document may report before the rest of
// it is skipped: enough to fix a file in one go, few enough not to flood.
const maxProblems = 10

// maxDepth bounds nesting, and so the stack, however the aliases are laid out.
const maxDepth = 10000

// problem is one thing wrong in a document, at a line of the file.
type problem struct {
	line   int
	reason string
}

// scalarClass is what a scalar holds once resolved.
type scalarClass uint8

const (
	classNull scalarClass = iota
	classString
	classInt
	classFloat
	classBool
)

// pathSeg is one step of a field path: a key, or an index when key is empty
// and index >= 0.
type pathSeg struct {
	key   string
	index int
}

// converter turns the yaml.Node tree of one document into the values
// unstructured objects hold, checking what it can on the way: duplicate keys,
// keys that are not strings, template placeholders, field types of built-in
// kinds, and how far aliases expand.
type converter struct {
	src      []byte // the document's text, to find placeholders in block scalars
	lineBase int    // added to node lines to make them lines of the file
	root     *yaml.Node

	minBudget int
	ratio     int
	budget    int // values the document may produce; 0 until the first alias
	produced  int

	depth    int
	aliases  []*yaml.Node // aliases being expanded, outermost first
	path     []pathSeg
	problems []problem
	// full is set when the object has reported maxProblems problems;
	// halted when the document has spent its alias budget or nests too deep.
	// Either stops the conversion.
	full, halted bool

	starts  []int // line start offsets in src, computed on demand
	scratch []byte

	// redact keeps values out of problem reasons, for Secrets: a reason is
	// printed, and a Secret's values must never be.
	redact bool
}

// sensitive reports whether the value being converted must not appear in a
// reason: anything of a Secret outside its metadata.
func (c *converter) sensitive() bool {
	return c.redact && !(len(c.path) > 0 && c.path[0].key == "metadata")
}

// describe names a scalar's type and, unless it is sensitive, its value.
func (c *converter) describe(n *yaml.Node, class scalarClass) string {
	if c.sensitive() {
		if class == classNull {
			return "null"
		}
		return classNames[class] + " (value not shown: Secret data)"
	}
	return describeScalar(n, class)
}

// shown is a scalar's text for a reason, or a placeholder when it is sensitive.
func (c *converter) shown(n *yaml.Node) string {
	if c.sensitive() {
		return "(value not shown: Secret data)"
	}
	return n.Value
}

func (c *converter) reset(src []byte, lineBase int, root *yaml.Node) {
	c.src, c.lineBase, c.root = src, lineBase, root
	c.budget, c.produced, c.depth = 0, 0, 0
	c.aliases = c.aliases[:0]
	c.path = c.path[:0]
	c.problems = c.problems[:0]
	c.full, c.halted = false, false
	c.starts = c.starts[:0]
}

func (c *converter) line(n *yaml.Node) int { return n.Line + c.lineBase }

func (c *converter) stopped() bool { return c.full || c.halted }

// fail records a problem at n, prefixed with the current field path.
func (c *converter) fail(n *yaml.Node, format string, args ...any) {
	c.failAt(c.line(n), format, args...)
}

func (c *converter) failAt(line int, format string, args ...any) {
	if c.stopped() {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if p := c.pathString(); p != "" {
		msg = p + ": " + msg
	}
	c.problems = append(c.problems, problem{line: line, reason: msg})
	if len(c.problems) >= maxProblems {
		c.problems[len(c.problems)-1].reason += " (further problems in this object are not reported)"
		c.full = true
	}
}

func (c *converter) pathString() string {
	var b strings.Builder
	for _, s := range c.path {
		switch {
		case s.key == "" && s.index >= 0:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case simpleKey(s.key):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		default:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(s.key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func simpleKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		b := k[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// value converts n, checked against t (nil: anything goes).
// freeForm says n is free text (a value of labels or ConfigMap data, an object's
// name) whose strings are not searched for template placeholders.
func (c *converter) value(n *yaml.Node, t *typeInfo, freeForm bool) any {
	if c.stopped() {
		return nil
	}
	c.produced++
	if c.budget > 0 && c.produced > c.budget {
		c.overBudget(n)
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return c.scalar(n, t, freeForm)
	case yaml.MappingNode:
		return c.mapping(n, t)
	case yaml.SequenceNode:
		return c.sequence(n, t)
	case yaml.AliasNode:
		return c.alias(n, t, freeForm)
	case yaml.DocumentNode:
		if len(n.Content) == 1 {
			return c.value(n.Content[0], t, freeForm)
		}
	}
	return nil
}

func (c *converter) alias(n *yaml.Node, t *typeInfo, freeForm bool) any {
	if c.budget == 0 {
		c.budget = max(c.minBudget, c.ratio*countNodes(c.root))
		if c.produced > c.budget {
			c.overBudget(n)
			return nil
		}
	}
	target := n.Alias
	if target == nil {
		return nil
	}
	for _, a := range c.aliases {
		if a.Alias == target {
			c.fail(n, "alias *%s refers to a node that contains it", n.Value)
			return nil
		}
	}
	c.aliases = append(c.aliases, n)
	v := c.value(target, t, freeForm)
	c.aliases = c.aliases[:len(c.aliases)-1]
	return v
}

func (c *converter) overBudget(n *yaml.Node) {
	if c.stopped() {
		return
	}
	if len(c.aliases) > 0 {
		n = c.aliases[0] // the alias that set it off
	}
	c.problems = append(c.problems, problem{
		line: c.line(n),
		reason: fmt.Sprintf("document expands aliases beyond the limit of %d values "+
			"(%d per value written, at least %d); not read",
			c.budget, c.ratio, c.minBudget),
	})
	c.halted = true
}

// countNodes counts the nodes of a tree without following aliases.
func countNodes(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	total := 1
	for _, child := range n.Content {
		total += countNodes(child)
	}
	return total
}

func (c *converter) enter(n *yaml.Node) bool {
	c.depth++
	if c.depth > maxDepth {
		c.fail(n, "document nests deeper than %d levels", maxDepth)
		c.halted = true
		return false
	}
	return true
}

func (c *converter) sequence(n *yaml.Node, t *typeInfo) any {
	if !c.enter(n) {
		return nil
	}
	defer func() { c.depth-- }()
	var elem *typeInfo // anything
	switch {
	case t == nil || t.kind == kindAny:
	case t.kind == kindSlice:
		elem = t.elem
	default:
		c.mismatch(n, t, classNull, "list")
	}
	out := make([]any, len(n.Content))
	for i, item := range n.Content {
		c.path = append(c.path, pathSeg{index: i})
		out[i] = c.value(item, elem, false)
		c.path = c.path[:len(c.path)-1]
		if c.stopped() {
			return nil
		}
	}
	return out
}

func (c *converter) mapping(n *yaml.Node, t *typeInfo) any {
	if p, ok := flowPlaceholder(n); ok {
		c.fail(n, "template placeholder %s where a value belongs; render the template first", p)
		return nil
	}
	if !c.enter(n) {
		return nil
	}
	defer func() { c.depth-- }()
	var fields map[string]*typeInfo
	var elem *typeInfo // anything
	switch {
	case t == nil || t.kind == kindAny:
	case t.kind == kindStruct:
		fields = t.fields
		if t.objectMeta {
			c.checkMeta(n)
		}
	case t.kind == kindMap:
		elem = t.elem
	default:
		c.mismatch(n, t, classNull, "object")
	}
	isMap := t != nil && t.kind == kindMap
	out := make(map[string]any, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge" {
			merges = append(merges, vn)
			continue
		}
		key, ok := c.key(kn)
		if !ok {
			if c.stopped() {
				return nil
			}
			continue
		}
		if _, dup := out[key]; dup {
			c.fail(kn, "duplicate key %q (first defined at line %d)", key, c.firstKeyLine(n, key, i))
			if c.stopped() {
				return nil
			}
			continue
		}
		ft := elem
		if fields != nil {
			if f, ok := fields[key]; ok {
				ft = f
			} else {
				ft = nil // unknown fields are not errors
			}
		}
		// Strings of maps (labels, ConfigMap data) are free-form; an
		// object's name and namespace were checked by checkMeta.
		freeForm := isMap || (t != nil && t.objectMeta && metaNameKey(key))
		c.path = append(c.path, pathSeg{key: key, index: -1})
		out[key] = c.value(vn, ft, freeForm)
		c.path = c.path[:len(c.path)-1]
		if c.stopped() {
			return nil
		}
	}
	for _, m := range merges {
		c.merge(out, m, t)
		if c.stopped() {
			return nil
		}
	}
	return out
}

// merge applies a YAML merge key ("<<: *base"): keys of the merged mappings
// that out does not have yet are added.
func (c *converter) merge(out map[string]any, m *yaml.Node, t *typeInfo) {
	switch m.Kind {
	case yaml.AliasNode:
		v := c.alias(m, t, false)
		if mm, ok := v.(map[string]any); ok {
			for k, val := range mm {
				if _, ok := out[k]; !ok {
					out[k] = val
				}
			}
		} else if v != nil {
			c.fail(m, "merge key (<<) must refer to a mapping")
		}
	case yaml.MappingNode:
		v := c.value(m, t, false)
		if mm, ok := v.(map[string]any); ok {
			for k, val := range mm {
				if _, ok := out[k]; !ok {
					out[k] = val
				}
			}
		}
	case yaml.SequenceNode:
		for _, item := range m.Content {
			if item.Kind == yaml.SequenceNode {
				c.fail(item, "merge key (<<) must refer to mappings")
				return
			}
			c.merge(out, item, t)
		}
	default:
		c.fail(m, "merge key (<<) must refer to a mapping")
	}
}

func (c *converter) firstKeyLine(n *yaml.Node, key string, before int) int {
	for i := 0; i < before; i += 2 {
		k := n.Content[i]
		for k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind == yaml.ScalarNode && keyString(k) == key {
			return c.line(n.Content[i])
		}
	}
	return c.line(n)
}

// key returns the string form of a mapping key. As kubectl does, integer,
// float and boolean keys are turned into their text; null and collection keys
// are errors.
func (c *converter) key(kn *yaml.Node) (string, bool) {
	k := kn
	for k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	switch k.Kind {
	case yaml.ScalarNode:
		if k.Tag == "!!null" {
			c.fail(kn, "mapping key is null; keys must be strings")
			return "", false
		}
		if k.Tag == "!!float" {
			if _, ok := parseFloat(k.Value); !ok {
				c.fail(kn, "mapping key %s is not a string", k.Value)
				return "", false
			}
		}
		return keyString(k), true
	case yaml.MappingNode:
		if p, ok := flowPlaceholder(k); ok {
			c.fail(kn, "template placeholder %s where a key belongs; render the template first", p)
			return "", false
		}
		c.fail(kn, "mapping key is an object; keys must be strings")
	case yaml.SequenceNode:
		c.fail(kn, "mapping key is a list; keys must be strings")
	default:
		c.fail(kn, "mapping key is not a string")
	}
	return "", false
}

// keyString is the text a scalar key becomes, as sigs.k8s.io/yaml makes it.
func keyString(k *yaml.Node) string {
	switch k.Tag {
	case "!!int":
		if v, ok := parseInt(k.Value); ok {
			switch v := v.(type) {
			case int64:
				return strconv.FormatInt(v, 10)
			case float64:
				return strconv.FormatFloat(v, 'f', -1, 64)
			}
		}
	case "!!float":
		if f, ok := parseFloat(k.Value); ok {
			return strconv.FormatFloat(f, 'g', -1, 32)
		}
	case "!!bool":
		if b, ok := parseBool(k.Value); ok {
			return strconv.FormatBool(b)
		}
	}
	return k.Value
}

// flowPlaceholder recognises "{{ name }}" written where YAML expects a value:
// it parses as a flow mapping whose only key is a flow mapping with one null
// entry. It returns the placeholder as written.
func flowPlaceholder(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.MappingNode || n.Style&yaml.FlowStyle == 0 || len(n.Content) != 2 {
		return "", false
	}
	inner, v := n.Content[0], n.Content[1]
	if inner.Kind != yaml.MappingNode || inner.Style&yaml.FlowStyle == 0 || !isNull(v) || len(inner.Content) != 2 {
		return "", false
	}
	name, nv := inner.Content[0], inner.Content[1]
	if name.Kind != yaml.ScalarNode || !isNull(nv) {
		return "", false
	}
	return "{{" + name.Value + "}}", true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// resolve returns the Go value of scalar n and its class.
func resolve(n *yaml.Node) (any, scalarClass, bool) {
	switch n.Tag {
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, classString, true
	case "!!null":
		return nil, classNull, true
	case "!!bool":
		b, ok := parseBool(n.Value)
		return b, classBool, ok
	case "!!int":
		v, ok := parseInt(n.Value)
		if f, isFloat := v.(float64); isFloat {
			return f, classFloat, ok
		}
		return v, classInt, ok
	case "!!float":
		f, ok := parseFloat(n.Value)
		return f, classFloat, ok
	default:
		// "<<" used as a value, or a custom tag such as !Ref: keep the text.
		return n.Value, classString, true
	}
}

// yaml11Bool reports whether n is a plain scalar that YAML 1.2 reads as a
// string but YAML 1.1, and so kubectl (sigs.k8s.io/yaml), as a boolean.
func yaml11Bool(n *yaml.Node) (bool, bool) {
	if n.Style != 0 || n.Tag != "!!str" || len(n.Value) > 3 {
		return false, false
	}
	switch n.Value {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return false, true
	}
	return false, false
}

func parseBool(s string) (bool, bool) {
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// parseInt reads an integer the way go.yaml.in/yaml/v3 resolves one: Go
// prefixes (0x, 0o, 0b and YAML 1.1 octal 0777), underscores allowed. A value
// beyond int64 becomes a float64, as JSON would carry it.
func parseInt(s string) (any, bool) {
	plain := s
	if strings.IndexByte(s, '_') >= 0 {
		plain = strings.ReplaceAll(s, "_", "")
	}
	if v, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return v, true
	}
	if v, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return float64(v), true
	}
	neg := strings.HasPrefix(plain, "-")
	digits := strings.TrimPrefix(plain, "-")
	base := 0
	switch {
	case strings.HasPrefix(digits, "0b"):
		base = 2
	case strings.HasPrefix(digits, "0o"):
		base = 8
	}
	if base != 0 {
		if v, err := strconv.ParseInt(digits[2:], base, 64); err == nil {
			if neg {
				v = -v
			}
			return v, true
		}
		if v, err := strconv.ParseUint(digits[2:], base, 64); err == nil && !neg {
			return float64(v), true
		}
	}
	return int64(0), false
}

func parseFloat(s string) (float64, bool) {
	plain := s
	if strings.IndexByte(s, '_') >= 0 {
		plain = strings.ReplaceAll(s, "_", "")
	}
	f, err := strconv.ParseFloat(plain, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		// .inf and .nan, which JSON cannot carry, and text YAML calls a float
		// but Go does not read.
		return 0, false
	}
	return f, true
}

func (c *converter) scalar(n *yaml.Node, t *typeInfo, freeForm bool) any {
	v, class, ok := resolve(n)
	if !ok {
		if n.Tag == "!!float" {
			c.fail(n, "value %s cannot be represented in JSON", c.shown(n))
		} else {
			c.fail(n, "cannot read %s as %s", strconv.Quote(c.shown(n)), strings.TrimPrefix(n.Tag, "!!"))
		}
		return nil
	}
	if class == classNull || t == nil {
		return v
	}
	switch t.kind {
	case kindAny:
	case kindString:
		if class != classString {
			c.mismatch(n, t, class, "")
			break
		}
		if _, ok := yaml11Bool(n); ok {
			if c.sensitive() {
				c.fail(n, "want string, got a value kubectl reads as a boolean (value not shown: Secret data; quote it)")
				break
			}
			c.fail(n, "want string, got %s, which kubectl reads as a boolean (quote it: %q)", n.Value, n.Value)
			break
		}
		if !freeForm && strings.Contains(n.Value, "{{") {
			if p, ok := typedPlaceholder(n.Value); ok {
				c.failAt(c.placeholderLine(n, p), "unrendered template placeholder %s", p)
			}
		}
	case kindInt, kindUint:
		return c.integer(n, t, v, class)
	case kindFloat:
		if class != classInt && class != classFloat {
			c.mismatch(n, t, class, "")
		}
	case kindBool:
		if class == classBool {
			break
		}
		if b, ok := yaml11Bool(n); ok {
			return b // kubectl reads YAML 1.1 booleans: yes, no, on, off
		}
		c.mismatch(n, t, class, "")
	case kindBytes:
		if class != classString {
			c.mismatch(n, t, class, "")
			break
		}
		if err := c.checkBase64(n.Value); err != nil {
			c.fail(n, "want base64 data, got %s: %v", c.describe(n, class), err)
		}
	case kindQuantity:
		switch class {
		case classInt, classFloat:
		case classString:
			if _, err := resource.ParseQuantity(n.Value); err != nil {
				c.fail(n, "want a quantity such as 100m or 1Gi, got %s", c.describe(n, class))
			}
		default:
			c.mismatch(n, t, class, "")
		}
	case kindIntOrString:
		switch class {
		case classString:
		case classInt, classFloat:
			int32Info := typeInfo{kind: kindInt, bits: 32}
			return c.integer(n, &int32Info, v, class)
		default:
			c.mismatch(n, t, class, "")
		}
	case kindTime, kindMicroTime:
		if class != classString {
			c.mismatch(n, t, class, "")
			break
		}
		layout := time.RFC3339
		if t.kind == kindMicroTime {
			layout = metav1.RFC3339Micro
		}
		if _, err := time.Parse(layout, n.Value); err != nil {
			c.fail(n, "want %s, got %s", want(t), c.describe(n, class))
		}
	case kindDuration:
		if class != classString {
			c.mismatch(n, t, class, "")
			break
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			c.fail(n, "want %s, got %s", want(t), c.describe(n, class))
		}
	default:
		c.mismatch(n, t, class, "")
	}
	return v
}

// integer checks an integer field. An integral float (replicas: 1.0) is
// accepted, as kubectl's YAML to JSON conversion writes it as an integer, and
// is stored as int64.
func (c *converter) integer(n *yaml.Node, t *typeInfo, v any, class scalarClass) any {
	var i int64
	switch class {
	case classInt:
		i = v.(int64)
	case classFloat:
		f := v.(float64)
		if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			c.mismatch(n, t, class, "")
			return v
		}
		i = int64(f)
	default:
		c.mismatch(n, t, class, "")
		return v
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if t.bits < 64 {
		hi = 1<<(t.bits-1) - 1
		lo = -hi - 1
	}
	if t.kind == kindUint {
		lo = 0
		if t.bits < 64 {
			hi = 1<<t.bits - 1
		}
	}
	if i < lo || i > hi {
		c.fail(n, "want %s, got %s (out of range)", want(t), c.describe(n, class))
	}
	return i
}

func (c *converter) mismatch(n *yaml.Node, t *typeInfo, class scalarClass, got string) {
	if got == "" {
		got = c.describe(n, class)
	}
	hint := ""
	if t.kind == kindString && n.Kind == yaml.ScalarNode {
		hint = fmt.Sprintf(" (quote it: %q)", n.Value)
		if c.sensitive() {
			hint = " (quote it)"
		}
	}
	c.fail(n, "want %s, got %s%s", want(t), got, hint)
}

func want(t *typeInfo) string {
	switch t.kind {
	case kindString:
		return "string"
	case kindInt:
		if t.bits < 64 {
			return fmt.Sprintf("integer (int%d)", t.bits)
		}
		return "integer"
	case kindUint:
		return "non-negative integer"
	case kindFloat:
		return "number"
	case kindBool:
		return "boolean (true or false)"
	case kindBytes:
		return "base64 string"
	case kindStruct, kindMap:
		return "object"
	case kindSlice:
		return "list"
	case kindQuantity:
		return "quantity (string or number)"
	case kindIntOrString:
		return "integer or string"
	case kindTime:
		return "RFC 3339 timestamp string"
	case kindMicroTime:
		return "RFC 3339 timestamp string with microseconds"
	case kindDuration:
		return "duration string such as 30s"
	}
	return "value"
}

func describeScalar(n *yaml.Node, class scalarClass) string {
	switch class {
	case classString:
		return "string " + shorten(n.Value)
	case classInt:
		return "integer " + n.Value
	case classFloat:
		return "number " + n.Value
	case classBool:
		return "boolean " + n.Value
	}
	return "null"
}

var classNames = map[scalarClass]string{classString: "string", classInt: "integer", classFloat: "number", classBool: "boolean", classNull: "null"}

func shorten(s string) string {
	const limit = 60
	if len(s) > limit {
		cut := limit
		for cut > 0 && s[cut]&0xc0 == 0x80 {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

func (c *converter) checkBase64(s string) error {
	need := base64.StdEncoding.DecodedLen(len(s))
	if cap(c.scratch) < need {
		c.scratch = make([]byte, need)
	}
	_, err := base64.StdEncoding.Decode(c.scratch[:need], []byte(s))
	return err
}

// checkMeta reports template placeholders in an object's name, namespace and
// labels, where they are never valid.
func (c *converter) checkMeta(n *yaml.Node) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			continue
		}
		switch {
		case metaNameKey(kn.Value):
			if vn.Kind == yaml.ScalarNode {
				if p, ok := anyPlaceholder(vn.Value); ok {
					c.path = append(c.path, pathSeg{key: kn.Value, index: -1})
					c.fail(vn, "unrendered template placeholder %s in %s", p, shorten(vn.Value))
					c.path = c.path[:len(c.path)-1]
				}
			}
		case kn.Value == "labels":
			for vn.Kind == yaml.AliasNode && vn.Alias != nil {
				vn = vn.Alias
			}
			if vn.Kind != yaml.MappingNode {
				continue
			}
			c.path = append(c.path, pathSeg{key: "labels", index: -1})
			for j := 0; j+1 < len(vn.Content); j += 2 {
				lk, lv := vn.Content[j], vn.Content[j+1]
				if lk.Kind == yaml.ScalarNode {
					if p, ok := anyPlaceholder(lk.Value); ok {
						c.fail(lk, "unrendered template placeholder %s in label key %s", p, shorten(lk.Value))
						continue
					}
				}
				if lv.Kind == yaml.ScalarNode && lk.Kind == yaml.ScalarNode {
					if p, ok := anyPlaceholder(lv.Value); ok {
						c.path = append(c.path, pathSeg{key: lk.Value, index: -1})
						c.fail(lv, "unrendered template placeholder %s in %s", p, shorten(lv.Value))
						c.path = c.path[:len(c.path)-1]
					}
				}
			}
			c.path = c.path[:len(c.path)-1]
		}
	}
}

func metaNameKey(k string) bool {
	return k == "name" || k == "namespace" || k == "generateName"
}

// anyPlaceholder finds "{{...}}" or "${...}" in s: never valid in a name or a label.
func anyPlaceholder(s string) (string, bool) {
	if i := strings.Index(s, "{{"); i >= 0 {
		if j := strings.Index(s[i+2:], "}}"); j >= 0 {
			return s[i : i+2+j+2], true
		}
	}
	if i := strings.Index(s, "${"); i >= 0 {
		if j := strings.IndexByte(s[i+2:], '}'); j >= 0 {
			return s[i : i+2+j+1], true
		}
	}
	return "", false
}

// typedPlaceholder finds a placeholder that no program but a template
// renderer would read: "{{name}}" (mustache, Jinja, vitess's sed templates)
// or Helm's "{{ .Values.x }}". Go templates meant for the program itself
// ("{{ .Name }}", "{{ $labels.job }}", "{{ end }}") and shell variables
// ("${VAR}") are left alone.
func typedPlaceholder(s string) (string, bool) {
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			return "", false
		}
		j := strings.Index(s[i+2:], "}}")
		if j < 0 {
			return "", false
		}
		inner := strings.TrimSpace(strings.Trim(strings.TrimSpace(s[i+2:i+2+j]), "-"))
		if isIdent(inner) && !goTemplateKeyword(inner) ||
			strings.HasPrefix(inner, ".Values.") || strings.HasPrefix(inner, ".Release.") || strings.HasPrefix(inner, ".Chart.") {
			return s[i : i+2+j+2], true
		}
		s = s[i+2+j+2:]
	}
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		letter := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_'
		if !letter && (i == 0 || b < '0' || b > '9') {
			return false
		}
	}
	return true
}

func goTemplateKeyword(s string) bool {
	switch s {
	case "end", "else", "break", "continue", "nil", "true", "false":
		return true
	}
	return false
}

// placeholderLine finds the line of p at or after n's line: a block scalar
// starts a line above its text, and folded text hides its line breaks.
func (c *converter) placeholderLine(n *yaml.Node, p string) int {
	if len(c.starts) == 0 {
		c.starts = append(c.starts, 0)
		for i, b := range c.src {
			if b == '\n' {
				c.starts = append(c.starts, i+1)
			}
		}
	}
	if n.Line < 1 || n.Line > len(c.starts) {
		return c.line(n)
	}
	from := c.starts[n.Line-1]
	i := bytes.Index(c.src[from:], []byte(p))
	if i < 0 {
		return c.line(n)
	}
	at := from + i
	line := n.Line
	for line < len(c.starts) && c.starts[line] <= at {
		line++
	}
	return line + c.lineBase
}
