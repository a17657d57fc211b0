package yamledit

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// collections returns the mappings and sequences of the tree under n, not
// going through aliases.
func collections(n *yaml.Node) (maps, seqs []*yaml.Node) {
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.MappingNode:
			maps = append(maps, n)
		case yaml.SequenceNode:
			seqs = append(seqs, n)
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(n)
	return maps, seqs
}

func hasAnchors(n *yaml.Node) bool {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return true
	}
	for _, c := range n.Content {
		if hasAnchors(c) {
			return true
		}
	}
	return false
}

// randomValue returns a new scalar, mapping or sequence.
func randomValue(r *rand.Rand, i int) *yaml.Node {
	switch r.Intn(5) {
	case 0:
		n, _ := NewNode(map[string]any{"k" + fmt.Sprint(i): "v", "list": []any{1, "two", map[string]any{"x": true}}})
		return n
	case 1:
		n, _ := NewNode([]any{"a", i, map[string]any{"name": "n", "z": []string{"p", "q"}}})
		return n
	case 2:
		return String(fmt.Sprintf("s%d: # not a comment", i))
	case 3:
		n, _ := NewNode(i)
		return n
	}
	return String(fmt.Sprintf("value-%d", i))
}

// randomEdit applies one random edit to the tree under root and describes it.
func randomEdit(r *rand.Rand, root *yaml.Node, i int) string {
	maps, seqs := collections(root)
	m := maps[r.Intn(len(maps))]
	keys := func() []string {
		var ks []string
		for j := 0; j+1 < len(m.Content); j += 2 {
			ks = append(ks, m.Content[j].Value)
		}
		return ks
	}()
	pick := func() string {
		if len(keys) == 0 {
			return ""
		}
		return keys[r.Intn(len(keys))]
	}
	switch op := r.Intn(8); {
	case op == 0 && len(keys) > 0:
		k := pick()
		_ = SetScalar(m, k, fmt.Sprintf("changed-%d", i))
		return "set " + k
	case op == 1 && len(keys) > 0:
		k := pick()
		_, _ = Delete(m, k)
		return "delete " + k
	case op == 2:
		after := pick()
		_ = InsertAfter(m, after, fmt.Sprintf("new%d", i), randomValue(r, i))
		return "insert after " + after
	case op == 3 && len(seqs) > 0:
		_ = Append(seqs[r.Intn(len(seqs))], randomValue(r, i))
		return "append"
	case op == 4 && len(keys) > 0:
		k := pick()
		_ = Rename(m, k, fmt.Sprintf("renamed%d", i))
		return "rename " + k
	case op == 5:
		_, _ = EnsureMapping(m, fmt.Sprintf("e%d", i), "deeper")
		return "ensure"
	case op == 6 && len(keys) > 0:
		k := pick()
		_ = Move(m, []string{k}, []string{fmt.Sprintf("moved%d", i), k})
		return "move " + k
	case op == 7 && len(keys) > 0:
		k := pick()
		_ = SetValue(m, k, map[string]any{"replaced": i})
		return "replace " + k
	}
	return "nothing"
}

func decoded(t *testing.T, n *yaml.Node) any {
	t.Helper()
	var v any
	if err := n.Decode(&v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return v
}

// decodable reports whether every document of f decodes (duplicate keys
// do not, for one).
func decodable(f *File) bool {
	for _, doc := range f.Documents() {
		var v any
		if doc.Root() != nil && doc.Root().Decode(&v) != nil {
			return false
		}
	}
	return true
}

// checkRandomEdits edits each document of src at random, renders it and
// checks that re-parsing the output gives the edited trees, and that
// documents left alone are byte-identical.
func checkRandomEdits(t *testing.T, name string, src []byte, r *rand.Rand, edits int) {
	t.Helper()
	f, err := Parse(name, src)
	if err != nil || !decodable(f) {
		return
	}
	var want []any
	var log []string
	var untouched []string
	for _, doc := range f.Documents() {
		root := doc.Root()
		if root == nil {
			continue
		}
		if hasAnchors(root) || root.Kind != yaml.MappingNode || r.Intn(4) == 0 {
			want = append(want, decoded(t, root))
			untouched = append(untouched, string(f.text[doc.start:doc.end]))
			continue
		}
		untouched = append(untouched, "")
		for i := range edits {
			log = append(log, randomEdit(r, root, i))
		}
		want = append(want, decoded(t, root))
	}
	out, err := f.Bytes()
	if err != nil {
		if errors.Is(err, ErrAlias) {
			return
		}
		t.Fatalf("%s: edits %v: %v", name, log, err)
	}
	g, err := Parse(name, out)
	if err != nil {
		if dump := os.Getenv("YAMLEDIT_DUMP"); dump != "" {
			_ = os.WriteFile(dump, out, 0o644)
		}
		t.Fatalf("%s: edits %v: output does not parse: %v\n%s", name, log, err, Diff(name, src, out))
	}
	var got []any
	j := 0
	for _, doc := range g.Documents() {
		if doc.Root() == nil {
			continue
		}
		got = append(got, decoded(t, doc.Root()))
		if j < len(untouched) && untouched[j] != "" {
			if text := string(g.text[doc.start:doc.end]); text != untouched[j] {
				t.Errorf("%s: untouched document %d changed", name, j)
			}
		}
		j++
	}
	if !cmp.Equal(want, got) {
		diff := cmp.Diff(want, got)
		t.Fatalf("%s: edits %v: re-parsed output differs from the edited tree (-want +got):\n%s\n%s", name, log, diff, Diff(name, src, out))
	}
}

// TestRandomEditsStyles runs random edits on the style fixtures.
func TestRandomEditsStyles(t *testing.T) {
	for _, name := range styleFixtures {
		src, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for seed := range 300 {
			r := rand.New(rand.NewSource(int64(seed)))
			checkRandomEdits(t, fmt.Sprintf("%s#%d", name, seed), src, r, 1+seed%5)
		}
	}
}

// TestRandomEditsCorpus runs random edits on every corpus file.
func TestRandomEditsCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole corpus is slow for -short")
	}
	files := corpusFiles(t)
	r := rand.New(rand.NewSource(seedFromEnv()))
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "{{") {
			continue // Helm templates are not YAML
		}
		checkRandomEdits(t, p, src, r, 1+r.Intn(4))
	}
}

// seedFromEnv returns 1, or the seed in YAMLEDIT_SEED to explore others.
func seedFromEnv() int64 {
	var s int64 = 1
	if v := os.Getenv("YAMLEDIT_SEED"); v != "" {
		if _, err := fmt.Sscan(v, &s); err != nil {
			panic("YAMLEDIT_SEED: " + err.Error())
		}
	}
	return s
}

func equalValues(a, b any) bool { return cmp.Equal(a, b) }
