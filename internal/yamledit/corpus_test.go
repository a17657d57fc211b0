package yamledit

import (
	"bytes"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// corpusFiles returns the YAML files of the shared corpus (next to the
// repository), or skips the test when it is absent.
func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "corpus")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		tb.Skipf("corpus %s not present", dir)
	}
	var files []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no YAML files under %s", dir)
	}
	return files
}

// TestCorpusRoundTrip: every corpus file that parses comes out of Parse and
// Bytes byte-identical when nothing was edited.
func TestCorpusRoundTrip(t *testing.T) {
	files := corpusFiles(t)
	parsed := 0
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(p, src)
		if err != nil {
			if !strings.HasPrefix(err.Error(), p+":") {
				t.Errorf("error does not start with path:line: %v", err)
			}
			continue
		}
		parsed++
		out, err := f.Bytes()
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if !bytes.Equal(out, src) {
			t.Errorf("%s: round trip changed the file:\n%s", p, Diff(p, src, out))
		}
	}
	t.Logf("%d files, %d parsed", len(files), parsed)
	if parsed < len(files)*9/10 {
		t.Errorf("only %d of %d corpus files parsed", parsed, len(files))
	}
}

// diffCounts counts the removed and added lines of a diff.
func diffCounts(d string) (minus, plus int) {
	for _, l := range strings.Split(d, "\n") {
		switch {
		case strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "+++ "):
		case strings.HasPrefix(l, "-"):
			minus++
		case strings.HasPrefix(l, "+"):
			plus++
		}
	}
	return minus, plus
}

// blockMappings returns the block mappings of a tree that hold no anchors
// or aliases, with their first key first on its line.
func blockMappings(n *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		if n.Anchor != "" || n.Kind == yaml.AliasNode || n.Style&yaml.FlowStyle != 0 {
			return
		}
		if n.Kind == yaml.MappingNode {
			out = append(out, n)
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(n)
	return out
}

// TestCorpusEditsAreMinimal: on every corpus file, one scalar change is a
// one-line diff, a new key only adds lines and a deleted key (not first in
// its mapping) only removes lines.
func TestCorpusEditsAreMinimal(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole corpus is slow for -short")
	}
	r := rand.New(rand.NewSource(3))
	checked := 0
	for _, p := range corpusFiles(t) {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for op := range 3 {
			f, err := Parse(p, src)
			if err != nil {
				break
			}
			var maps []*yaml.Node
			for _, d := range f.Documents() {
				if root := d.Root(); root != nil && !hasAnchors(root) {
					maps = append(maps, blockMappings(root)...)
				}
			}
			if len(maps) == 0 {
				break
			}
			m := maps[r.Intn(len(maps))]
			i := 2 * r.Intn(len(m.Content)/2)
			k, v := m.Content[i], m.Content[i+1]
			var wantMinus, wantPlus int
			switch op {
			case 0:
				if v.Kind != yaml.ScalarNode || v.Line != k.Line || v.Value == "" ||
					v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || strings.Contains(v.Value, "\n") {
					continue
				}
				v.Value, v.Tag = v.Value+"-x", "!!str"
				wantMinus, wantPlus = 1, 1
			case 1:
				if err := InsertAfter(m, k.Value, "shipshape-new", String("v")); err != nil {
					continue
				}
				wantPlus = 1
			case 2:
				if i == 0 || len(m.Content) < 4 {
					continue
				}
				m.Content = append(m.Content[:i:i], m.Content[i+2:]...)
				wantMinus = -1 // at least one
			}
			out, err := f.Bytes()
			if err != nil {
				t.Errorf("%s: %v", p, err)
				continue
			}
			d := Diff(p, src, out)
			minus, plus := diffCounts(d)
			if !bytes.HasSuffix(src, []byte("\n")) {
				// Without a final newline the line that becomes (or stops
				// being) the last shows as removed and added again.
				minus, plus = minus-samePairs(d), plus-samePairs(d)
			}
			if wantMinus < 0 && (minus == 0 || plus != 0) || wantMinus >= 0 && (minus != wantMinus || plus != wantPlus) {
				t.Errorf("%s: edit %d of key %q at line %d: %d lines removed, %d added:\n%s", p, op, k.Value, k.Line, minus, plus, d)
			}
			checked++
		}
	}
	t.Logf("%d edits checked", checked)
	if checked < 1000 {
		t.Errorf("only %d edits checked", checked)
	}
}

// samePairs counts lines of a diff that are removed and added unchanged.
func samePairs(d string) int {
	removed := map[string]int{}
	n := 0
	for _, l := range strings.Split(d, "\n") {
		if strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "--- ") {
			removed[strings.TrimSuffix(l[1:], "\r")]++
		}
	}
	for _, l := range strings.Split(d, "\n") {
		if !strings.HasPrefix(l, "+") || strings.HasPrefix(l, "+++ ") {
			continue
		}
		if k := strings.TrimSuffix(l[1:], "\r"); removed[k] > 0 {
			removed[k]--
			n++
		}
	}
	return n
}
