package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Op says how a field differs.
type Op string

const (
	// Added is a field only the second object has.
	Added Op = "added"
	// Removed is a field only the first object has.
	Removed Op = "removed"
	// Changed is a field both have with different values.
	Changed Op = "changed"
)

// Change is one field that differs. Before and After are short JSON
// renderings of the values, empty for the side that lacks the field, and
// "(secret value)" for anything under a Secret's data.
type Change struct {
	// Path is the field, e.g. spec.template.spec.containers[name=web].image.
	Path   string `json:"path"`
	Op     Op     `json:"op"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

func (c Change) String() string {
	switch c.Op {
	case Added:
		return fmt.Sprintf("+ %s: %s", c.Path, c.After)
	case Removed:
		return fmt.Sprintf("- %s: %s", c.Path, c.Before)
	}
	return fmt.Sprintf("~ %s: %s -> %s", c.Path, c.Before, c.After)
}

// secretRedacted replaces Secret values in changes.
const secretRedacted = "(secret value)"

// maxValue bounds a rendered value.
const maxValue = 80

// Mode says how two objects are compared.
type Mode int

const (
	// Exact reports every field either side has and the other lacks: for
	// two objects the server produced (live and a dry-run result).
	Exact Mode = iota
	// Desired reports the fields the first (desired) object sets that the
	// second (live) lacks or has otherwise, and ignores fields only the live
	// object has (server defaults) except in maps that are wholly user data:
	// labels, annotations and a ConfigMap's or Secret's data.
	Desired
)

// Compare returns the differences between a and b (cleaned with Clean
// first), sorted by path. In Desired mode a is the desired object.
func Compare(a, b *unstructured.Unstructured, mode Mode) []Change {
	ca, cb := Clean(a), Clean(b)
	c := comparer{mode: mode, secret: ca.GetKind() == "Secret" && ca.GroupVersionKind().Group == ""}
	// apiVersion may legitimately differ (a backup at an older version);
	// kind and identity are compared by the caller.
	delete(ca.Object, "apiVersion")
	delete(cb.Object, "apiVersion")
	c.walk("", ca.Object, cb.Object)
	sort.SliceStable(c.out, func(i, j int) bool { return c.out[i].Path < c.out[j].Path })
	return c.out
}

type comparer struct {
	mode   Mode
	secret bool
	out    []Change
}

// exactKeys are map paths whose keys are all user data.
func exactKeys(path string) bool {
	switch path {
	case "metadata.labels", "metadata.annotations", "data", "binaryData", "stringData":
		return true
	}
	return false
}

func (c *comparer) add(path string, op Op, before, after any, hasBefore, hasAfter bool) {
	ch := Change{Path: path, Op: op}
	if hasBefore {
		ch.Before = c.render(path, before)
	}
	if hasAfter {
		ch.After = c.render(path, after)
	}
	c.out = append(c.out, ch)
}

func (c *comparer) render(path string, v any) string {
	if c.secret && (path == "data" || strings.HasPrefix(path, "data.") || path == "stringData" || strings.HasPrefix(path, "stringData.")) {
		return secretRedacted
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > maxValue {
		s = s[:maxValue-3] + "..."
	}
	return s
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	if strings.ContainsAny(key, ".[]") {
		return path + "[" + strconv.Quote(key) + "]"
	}
	return path + "." + key
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func (c *comparer) walk(path string, a, b any) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			if empty(a) && empty(b) {
				return
			}
			c.add(path, Changed, a, b, true, true)
			return
		}
		c.walkMap(path, av, bv)
	case []any:
		bv, ok := b.([]any)
		if !ok {
			if empty(a) && empty(b) {
				return
			}
			c.add(path, Changed, a, b, true, true)
			return
		}
		c.walkList(path, av, bv)
	default:
		if !scalarEqual(path, a, b) {
			if empty(a) && empty(b) {
				return
			}
			c.add(path, Changed, a, b, true, true)
		}
	}
}

func (c *comparer) walkMap(path string, a, b map[string]any) {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := join(path, k)
		av, inA := a[k]
		bv, inB := b[k]
		switch {
		case inA && inB:
			c.walk(p, av, bv)
		case inA:
			if !empty(av) {
				c.add(p, Removed, av, nil, true, false)
			}
		case c.mode == Exact || exactKeys(path):
			if !empty(bv) {
				c.add(p, Added, nil, bv, false, true)
			}
		}
	}
}

// listKey returns the field that identifies elements of l ("name", or the
// merge keys of ports and env-like lists), or "" to compare by index.
func listKey(l []any) string {
	for _, key := range []string{"name", "containerPort", "port", "mountPath", "type"} {
		seen := map[string]bool{}
		ok := len(l) > 0
		for _, e := range l {
			m, isMap := e.(map[string]any)
			if !isMap {
				ok = false
				break
			}
			v, has := m[key]
			if !has {
				ok = false
				break
			}
			s := fmt.Sprint(v)
			if seen[s] {
				ok = false
				break
			}
			seen[s] = true
		}
		if ok {
			return key
		}
	}
	return ""
}

func (c *comparer) walkList(path string, a, b []any) {
	key := listKey(a)
	if key != "" && (len(b) == 0 || listKey(b) == key) {
		index := func(l []any) (map[string]any, []string) {
			m := map[string]any{}
			var order []string
			for _, e := range l {
				k := fmt.Sprint(e.(map[string]any)[key])
				m[k] = e
				order = append(order, k)
			}
			return m, order
		}
		am, aOrder := index(a)
		bm, bOrder := index(b)
		for _, k := range aOrder {
			p := fmt.Sprintf("%s[%s=%s]", path, key, k)
			if bv, ok := bm[k]; ok {
				c.walk(p, am[k], bv)
			} else {
				c.add(p, Removed, am[k], nil, true, false)
			}
		}
		for _, k := range bOrder {
			if _, ok := am[k]; !ok {
				c.add(fmt.Sprintf("%s[%s=%s]", path, key, k), Added, nil, bm[k], false, true)
			}
		}
		return
	}
	if len(a) != len(b) {
		if empty(a) && empty(b) {
			return
		}
		c.add(path, Changed, a, b, true, true)
		return
	}
	for i := range a {
		c.walk(fmt.Sprintf("%s[%d]", path, i), a[i], b[i])
	}
}

// quantityParents are fields whose values are resource quantities, which
// the server rewrites in canonical form (0.5 -> 500m).
var quantityParents = map[string]bool{
	"limits": true, "requests": true, "hard": true, "capacity": true, "allocatable": true,
	"default": true, "defaultRequest": true, "max": true, "min": true, "storage": true,
}

func scalarEqual(path string, a, b any) bool {
	if a == b {
		return true
	}
	if fa, ok := number(a); ok {
		if fb, ok := number(b); ok {
			return fa == fb
		}
	}
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok && quantityField(path) {
			qa, errA := resource.ParseQuantity(sa)
			qb, errB := resource.ParseQuantity(sb)
			return errA == nil && errB == nil && qa.Cmp(qb) == 0
		}
	}
	if qa, ok := quantityOf(a); ok && quantityField(path) {
		if qb, ok := quantityOf(b); ok {
			return qa.Cmp(qb) == 0
		}
	}
	return false
}

func quantityField(path string) bool {
	parts := strings.Split(path, ".")
	for _, p := range parts[max(0, len(parts)-3):] {
		if i := strings.IndexByte(p, '['); i >= 0 {
			p = p[:i]
		}
		if quantityParents[p] {
			return true
		}
	}
	return false
}

func quantityOf(v any) (resource.Quantity, bool) {
	switch x := v.(type) {
	case string:
		q, err := resource.ParseQuantity(x)
		return q, err == nil
	default:
		if f, ok := number(v); ok && f == math.Trunc(f) {
			return *resource.NewQuantity(int64(f), resource.DecimalSI), true
		}
	}
	return resource.Quantity{}, false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
