package yamledit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrAlias is returned when an edit would go through or change an alias or
// an anchored node. Such an edit would change every place that refers to
// the anchor, so yamledit refuses it rather than corrupt the file.
var ErrAlias = errors.New("edit across a YAML anchor or alias")

// content returns the node to edit: the root of a DocumentNode, the node
// itself otherwise.
func content(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return n.Content[0]
	}
	return n
}

// Lookup follows path from node through mapping keys (and, for sequences,
// decimal indexes) and returns the node found, or nil when some step is
// missing, is not a collection, or is an alias (Lookup never follows
// aliases). A DocumentNode stands for its root.
func Lookup(node *yaml.Node, path ...string) *yaml.Node {
	n := content(node)
	for _, p := range path {
		if n == nil {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			i := keyIndex(n, p)
			if i < 0 {
				return nil
			}
			n = n.Content[i+1]
		case yaml.SequenceNode:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return nil
		}
	}
	return n
}

// keyIndex returns the index in m.Content of the key node named key, or -1.
func keyIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// mapping checks that n can be edited as a mapping.
func mapping(n *yaml.Node) (*yaml.Node, error) {
	n = content(n)
	switch {
	case n == nil:
		return nil, errors.New("no node to edit")
	case n.Kind == yaml.AliasNode:
		return nil, fmt.Errorf("line %d: %w: *%s", n.Line, ErrAlias, n.Value)
	case n.Kind != yaml.MappingNode:
		return nil, fmt.Errorf("line %d: %s is not a mapping", n.Line, kindName(n))
	}
	return n, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.DocumentNode:
		return "document"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.MappingNode:
		return "mapping"
	case yaml.AliasNode:
		return "alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("scalar %q", n.Value)
	}
	return "node"
}

// Key returns a new key (string scalar) node.
func Key(key string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
}

// String returns a new string scalar node (quoted on output when the value
// would otherwise read as another type).
func String(value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
}

// NewNode returns the node tree that encodes v (a string, number, bool,
// map, slice or struct), as yaml.v3 would write it.
func NewNode(v any) (*yaml.Node, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, fmt.Errorf("encode value: %w", err)
	}
	return &n, nil
}

// Set sets key in mapping m to value, adding the key at the end when it is
// missing. When both the old and the new value are scalars the old node is
// updated in place (keeping its quoting style where the new value allows),
// so that the file changes only in that scalar.
func Set(m *yaml.Node, key string, value *yaml.Node) error {
	m, err := mapping(m)
	if err != nil {
		return err
	}
	if value == nil {
		return errors.New("set " + key + ": nil value")
	}
	i := keyIndex(m, key)
	if i < 0 {
		m.Content = append(m.Content, Key(key), value)
		return nil
	}
	old := m.Content[i+1]
	if old.Kind == yaml.ScalarNode && value.Kind == yaml.ScalarNode && value.Anchor == "" {
		old.Value, old.Tag = value.Value, value.Tag
		if value.Style != 0 || old.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			old.Style = value.Style
		}
		if value.LineComment != "" {
			old.LineComment = value.LineComment
		}
		return nil
	}
	m.Content[i+1] = value
	return nil
}

// SetScalar sets key in mapping m to the string value.
func SetScalar(m *yaml.Node, key, value string) error {
	return Set(m, key, String(value))
}

// SetValue sets key in mapping m to the encoding of v (see NewNode), for
// numbers, booleans and whole structures.
func SetValue(m *yaml.Node, key string, v any) error {
	n, err := NewNode(v)
	if err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	return Set(m, key, n)
}

// Delete removes key from mapping m and reports whether it was there.
func Delete(m *yaml.Node, key string) (bool, error) {
	m, err := mapping(m)
	if err != nil {
		return false, err
	}
	i := keyIndex(m, key)
	if i < 0 {
		return false, nil
	}
	m.Content = append(m.Content[:i:i], m.Content[i+2:]...)
	return true, nil
}

// Rename renames key oldKey of mapping m to newKey, keeping its place and
// value. It is an error when oldKey is missing or newKey already exists.
func Rename(m *yaml.Node, oldKey, newKey string) error {
	m, err := mapping(m)
	if err != nil {
		return err
	}
	i := keyIndex(m, oldKey)
	if i < 0 {
		return fmt.Errorf("rename %s: no such key", oldKey)
	}
	if oldKey == newKey {
		return nil
	}
	if keyIndex(m, newKey) >= 0 {
		return fmt.Errorf("rename %s to %s: %s already exists", oldKey, newKey, newKey)
	}
	k := m.Content[i]
	k.Value, k.Tag = newKey, "!!str"
	return nil
}

// isNull reports whether n is an empty or null scalar (`key:`, `key: ~`).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// EnsureMapping follows path from node, creating missing mappings (and
// replacing null values by mappings), and returns the mapping at the end.
// It is an error when a step exists and is not a mapping.
func EnsureMapping(node *yaml.Node, path ...string) (*yaml.Node, error) {
	n, err := mapping(node)
	if err != nil {
		return nil, err
	}
	for j, p := range path {
		i := keyIndex(n, p)
		if i < 0 {
			child := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			n.Content = append(n.Content, Key(p), child)
			n = child
			continue
		}
		child := n.Content[i+1]
		if isNull(child) {
			repl := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", LineComment: child.LineComment}
			n.Content[i+1] = repl
			n = repl
			continue
		}
		if n, err = mapping(child); err != nil {
			return nil, fmt.Errorf("%s: %w", strings.Join(path[:j+1], "."), err)
		}
	}
	return n, nil
}

// InsertAfter adds key with value to mapping m just after the key named
// after, or first when after is "". It is an error when key already
// exists or after is missing.
func InsertAfter(m *yaml.Node, after, key string, value *yaml.Node) error {
	m, err := mapping(m)
	if err != nil {
		return err
	}
	if keyIndex(m, key) >= 0 {
		return fmt.Errorf("insert %s: key already exists", key)
	}
	at := 0
	if after != "" {
		i := keyIndex(m, after)
		if i < 0 {
			return fmt.Errorf("insert %s after %s: no key %s", key, after, after)
		}
		at = i + 2
	}
	rest := append([]*yaml.Node{Key(key), value}, m.Content[at:]...)
	m.Content = append(m.Content[:at:at], rest...)
	return nil
}

// Append adds value at the end of sequence seq.
func Append(seq *yaml.Node, value *yaml.Node) error {
	seq = content(seq)
	switch {
	case seq == nil:
		return errors.New("append: no node")
	case seq.Kind == yaml.AliasNode:
		return fmt.Errorf("line %d: %w: *%s", seq.Line, ErrAlias, seq.Value)
	case seq.Kind != yaml.SequenceNode:
		return fmt.Errorf("line %d: append to %s: not a sequence", seq.Line, kindName(seq))
	}
	seq.Content = append(seq.Content, value)
	return nil
}

// Move moves the subtree at path from (relative to node) to path to,
// creating missing mappings on the way; the last step of to is the new
// key. It is an error when from is missing or to already exists. Comments
// on the moved key move with it.
func Move(node *yaml.Node, from, to []string) error {
	if len(from) == 0 || len(to) == 0 {
		return errors.New("move: empty path")
	}
	src := Lookup(node, from[:len(from)-1]...)
	if src == nil {
		return fmt.Errorf("move %s: not found", strings.Join(from, "."))
	}
	src, err := mapping(src)
	if err != nil {
		return fmt.Errorf("move %s: %w", strings.Join(from, "."), err)
	}
	i := keyIndex(src, from[len(from)-1])
	if i < 0 {
		return fmt.Errorf("move %s: not found", strings.Join(from, "."))
	}
	dst, err := EnsureMapping(node, to[:len(to)-1]...)
	if err != nil {
		return fmt.Errorf("move to %s: %w", strings.Join(to, "."), err)
	}
	if keyIndex(dst, to[len(to)-1]) >= 0 {
		return fmt.Errorf("move to %s: already exists", strings.Join(to, "."))
	}
	k, v := src.Content[i], src.Content[i+1]
	src.Content = append(src.Content[:i:i], src.Content[i+2:]...)
	nk := Key(to[len(to)-1])
	nk.HeadComment, nk.LineComment, nk.FootComment = k.HeadComment, k.LineComment, k.FootComment
	dst.Content = append(dst.Content, nk, v)
	return nil
}
