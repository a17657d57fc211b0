package manifest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// sameTree compares the parts of two trees the reader uses (not the line
// of the document node, which it never reports).
func sameTree(want, got *yaml.Node, path string) error {
	if want.Kind == yaml.DocumentNode && got.Kind == yaml.DocumentNode {
		got = &yaml.Node{Kind: got.Kind, Tag: got.Tag, Value: got.Value, Style: got.Style, Line: want.Line, Content: got.Content}
	}
	if want.Kind != got.Kind || want.Tag != got.Tag || want.Value != got.Value || want.Style != got.Style ||
		want.Line != got.Line || len(want.Content) != len(got.Content) {
		return fmt.Errorf("%s: yaml.v3 has kind %d tag %s value %q style %d line %d with %d children; "+
			"fast parser has kind %d tag %s value %q style %d line %d with %d children",
			path, want.Kind, want.Tag, want.Value, want.Style, want.Line, len(want.Content),
			got.Kind, got.Tag, got.Value, got.Style, got.Line, len(got.Content))
	}
	for i := range want.Content {
		if err := sameTree(want.Content[i], got.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// checkFastParse parses one document with both parsers. When the fast
// parser accepts it, go.yaml.in/yaml/v3 must accept it too and build the
// same tree. It reports whether the fast parser accepted the document.
func checkFastParse(t testing.TB, name string, data []byte) bool {
	t.Helper()
	var fp fastParser
	got, ok := fastParse(data, &fp)
	if !ok {
		return false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var want, extra yaml.Node
	if err := parseNode(dec, &want); err != nil {
		t.Errorf("%s: fast parser accepted a document yaml.v3 rejects (%v):\n%s", name, err, data)
		return true
	}
	if err := parseNode(dec, &extra); err != io.EOF {
		t.Errorf("%s: fast parser accepted a document yaml.v3 finds more in (%v):\n%s", name, err, data)
		return true
	}
	if err := sameTree(&want, got, name); err != nil {
		t.Errorf("%v\n%s", err, data)
	}
	return true
}

// documents cuts a file into the documents the reader parses.
func documents(t testing.TB, data []byte) [][]byte {
	t.Helper()
	sp := newSplitter(bufio.NewReader(bytes.NewReader(data)), DefaultMaxDocumentBytes, DefaultMaxFileBytes)
	var docs [][]byte
	for {
		c, err := sp.next()
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		if !c.empty && c.size == 0 {
			docs = append(docs, bytes.Clone(c.data))
		}
	}
}

// TestFastParseCorpus holds the fast parser to go.yaml.in/yaml/v3 on every
// document of the shared corpora and of testdata, and checks that it reads
// nearly all of the real manifests (otherwise it would not pay its way).
func TestFastParseCorpus(t *testing.T) {
	dirs := []string{"testdata"}
	for _, name := range []string{"corpus", "corpus-malformed"} {
		if !testing.Short() {
			dirs = append(dirs, corpusDir(t, name))
		}
	}
	for _, dir := range dirs {
		total, fast := 0, 0
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for i, doc := range documents(t, data) {
				total++
				if checkFastParse(t, fmt.Sprintf("%s#%d", p, i), doc) {
					fast++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: the fast parser read %d of %d documents", dir, fast, total)
		if filepath.Base(dir) == "corpus" && fast < total*95/100 {
			t.Errorf("%s: the fast parser read only %d of %d documents, want at least 95%%", dir, fast, total)
		}
	}
}

// TestFastParseCases covers the forms the fast parser reads and those it
// must leave to go.yaml.in/yaml/v3.
func TestFastParseCases(t *testing.T) {
	cases := []struct {
		doc  string
		fast bool
	}{
		{"a: b\n", true},
		{"a: b", true},
		{"---\na: 1\nb: 2.5\nc: true\nd: null\ne: ~\nf:\ng: 2024-01-02\n", true},
		{"--- # c\na: 0x1F\nb: -3\nc: .inf\nd: 1e3\ne: yes\nf: On\n", true},
		{"a:\n  b:\n    c: d\n  e: [x, \"y\", 'z''s', 1]\n  f: {g: h, \"i\": 2}\n  j: []\n  k: {}\n", true},
		{"a:\n- b\n- c: d\n  e: f\n-\n- - g\n", false},
		{"a:\n- b\n- c: d\n  e: f\n-\nh: i\n", true},
		{"- a\n- b: c\n  d:\n  - e\n", true},
		{"a: |\n  x\n   y\n\n  z\nb: |-\n  q\n\nc: >\n  p\n  q\n\n  r\n", true},
		{"a: |\n\n  x\n", true},
		{"a: >\n\n  x\n", true},
		{"a: |+\n  x\n\n", true},
		{"a: |2\n   x\n", false},
		{"a: \"x\\ny\\t\\\"\\u00e9\"\nb: 'it''s'\n", true},
		{"a: \"x\\x41\"\n", false},
		{"a: &x 1\nb: *x\n", false},
		{"a: !!str 1\n", false},
		{"a: b\n  c\n\n  d\ne: f\n", true},
		{"a: b\n  c: d\n", false},
		{"a: b\n  # c\n  d\n", false},
		{"a: b: c\n", false},
		{"a: 'b\n  c'\n", true},
		{"a:\tb\n", false},
		{"a: b\r\n", false},
		{"? a\n: b\n", false},
		{"a: b # c\nd: e#f\n\"g h\": i\n", true},
		{"a: b\n a: c\n", false},
		{"a: b\nc\n", false},
		{"<<: {a: b}\n", false},
		{"a: {{ x }}\n", false},
		{"a: [b,]\n", false},
		{"a: [b\n, c]\n", false},
		{"{\"a\": 1}\n", false},
		{"a: b\n- c\n", false},
		{"- a\nb: c\n", false},
		{"a: \"b\" c\n", false},
		{"a: -b\nc: - d\n", false},
		{"a:\n  b\n", true},
		{"a:\n  {}\nb:\n  - c\n", true},
		{"key with spaces: value with spaces   \n", true},
		{"a: http://x:80/y\nb: c:d\n", true},
		{"a: x\n\n# comment\n  # indented comment\nb: y\n", true},
		{"a:\n  - b\n  -   c: d\n      e: f\n", true},
		{"a: |\n  x\n # dedented comment\nb: c\n", true},
		{"a: >-\n  x\n  y\n", true},
		{"a: >\n  x\n    y\n", true},
		{"a: |+\n  x\n\n  \n", true},
		{"a: >\n  x\n     \n  y\n\n   z\n  w\nb: |\n  x\n      \n  y", true},
		{"a: |-\n  x\n  y", true},
		{"a: 'x\n  y\n\n  z  '\nb: \"p \n  q\\\n  r\\t \n\n\n  s\"\n", true},
		{"a: 'x\ny'\n", false},
		{"- 'x\n  y'\n- \"a\n\n  b\"\n", true},
		{"a: :b\nc: ?d\n", true},
		{"a: é\nb: \"\u00e9\"\n", true},
		{"a: \ufeffb\n", false},
	}
	for _, c := range cases {
		got := checkFastParse(t, strings.ReplaceAll(c.doc, "\n", `\n`), []byte(c.doc))
		if got != c.fast {
			t.Errorf("%q: fast parser read it: %v, want %v", c.doc, got, c.fast)
		}
	}
}

// FuzzFastParse holds the fast parser to go.yaml.in/yaml/v3 on any input.
func FuzzFastParse(f *testing.F) {
	for _, s := range []string{
		"a: b\n", "- a\n- b: c\n", "a:\n  b: [1, 'x', \"y\"]\n", "a: |\n  x\n\n  y\nb: >-\n  p\n  q\n",
		"a: {b: c, \"d\": 1}\n", "a:\n- b\nc: d\n", "---\na: \"x\\u00e9\"\n",
		// Lines that continue a scalar though they look like something else.
		"key: a\n  - b\n", "key: a\n  [b]\n", "key: a\n  &b\n", "key: a\n  *b\n", "key: a\n  ? b\n",
		"key: a\n  ---\n", "key: 'a\n  #b'\n", "key: \"a \\\n  b\"\n", "key: 'a  \n  b  '\n",
		"a:\n  |\n   x\n", "a: |\n  x\n  \n", "- # c\n  a: b\n", "a: 1_000\nb: 0b101\nc: -.inf\nd: 2002-12-14\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastParse(t, "input", data)
	})
}

// TestFastText checks the word-at-a-time scan against a byte at a time, with
// every troublesome byte at every position of a word.
func TestFastText(t *testing.T) {
	slow := func(data []byte) bool {
		for _, r := range string(data) {
			switch {
			case r == utf8.RuneError, r == '\n':
				if r == utf8.RuneError && !strings.Contains(string(data), "\uFFFD") {
					return false
				}
			case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xA0, r == 0xFEFF, r == 0x2028, r == 0x2029,
				r >= 0xD800 && r < 0xE000, r == 0xFFFE, r == 0xFFFF:
				return false
			}
		}
		return true
	}
	bad := []string{"\t", "\r", "\x00", "\x0b", "\x1f", "\x7f", "\x85", "\u0085", "\ufeff", "\u2028", "\xff", "\xc3"}
	good := []string{"\n", " ", "~", "é", "\u00a0", "\U0001F600", "\n\n"}
	for _, x := range append(bad, good...) {
		for pos := range 17 {
			for _, filler := range []string{"a", " ", "\n"} {
				data := []byte(strings.Repeat(filler, pos) + x + strings.Repeat(filler, 20))
				if got, want := fastText(data), slow(data); got != want {
					t.Errorf("fastText(%q) = %v, want %v", data, got, want)
				}
			}
		}
	}
}
