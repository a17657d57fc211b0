package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func TestParseDocuments(t *testing.T) {
	src := "# leading comment\n---\na: 1\n---\n---\nb: 2\n...\n# after the end marker\n---\nc: [3]\n# trailing"
	f, err := Parse("multi.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	type docInfo struct {
		Start, End int
		Text       string
		Root       string
	}
	var got []docInfo
	for _, d := range f.Documents() {
		root := ""
		if r := d.Root(); r != nil {
			root = fmt.Sprint(decoded(t, r))
		}
		got = append(got, docInfo{d.StartLine, d.EndLine, src[d.Offset:d.End], root})
	}
	want := []docInfo{
		{1, 3, "# leading comment\n---\na: 1\n", "map[a:1]"},
		{4, 4, "---\n", ""},
		{5, 7, "---\nb: 2\n...\n", "map[b:2]"},
		{8, 11, "# after the end marker\n---\nc: [3]\n# trailing", "map[c:[3]]"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
	// Node lines count from the top of the file.
	if n := Lookup(f.Documents()[3].Root(), "c"); n == nil || n.Line != 10 {
		t.Errorf("line of c = %v, want 10", n)
	}
	out, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != src {
		t.Errorf("round trip changed the file:\n%s", Diff("multi.yaml", []byte(src), out))
	}
	// An edit of the third document leaves the others and the missing final
	// newline alone.
	if err := SetValue(f.Documents()[3].Root(), "d", 4); err != nil {
		t.Fatal(err)
	}
	out, err = f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want2 := "# leading comment\n---\na: 1\n---\n---\nb: 2\n...\n# after the end marker\n---\nc: [3]\nd: 4\n# trailing"
	if string(out) != want2 {
		t.Errorf("after edit:\n%s", Diff("multi.yaml", []byte(want2), out))
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]struct {
		src  string
		want string
	}{
		"first document":  {"a: 1\nb: [\n", "bad.yaml:2: "},
		"third document":  {"a: 1\n---\nb: 2\n---\nc: 3\n  d: 4\n", "bad.yaml:6: mapping values are not allowed"},
		"tab indentation": {"a:\n\tb: 1\n", "bad.yaml:2: "},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(c.src))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error = %v, want prefix %q", err, c.want)
			}
		})
	}
}

// TestParseMalformedCorpus: every malformed corpus file (malformed for
// Kubernetes tools, mostly valid YAML) either parses and round-trips
// byte-identically or fails with an error that starts with its path and a
// line.
func TestParseMalformedCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus-malformed")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus %s not present", dir)
	}
	files := 0
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		f, err := Parse(p, src)
		if err != nil {
			rest, ok := strings.CutPrefix(err.Error(), p+":")
			if !ok || rest == "" || rest[0] < '1' || rest[0] > '9' {
				t.Errorf("error without path:line: %v", err)
			}
			return nil
		}
		out, err := f.Bytes()
		if err != nil || !bytes.Equal(out, src) {
			t.Errorf("%s: round trip failed: %v\n%s", p, err, Diff(p, src, out))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Error("no files in the malformed corpus")
	}
}

func TestCRLF(t *testing.T) {
	src := []byte("# crlf\r\nkind: Pod\r\nmetadata:\r\n  name: a # c\r\nspec:\r\n  containers:\r\n  - name: x\r\n")
	f, err := Parse("crlf.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, src) {
		t.Fatalf("round trip changed a CRLF file: %q", out)
	}
	root := f.Documents()[0].Root()
	if err := SetScalar(Lookup(root, "metadata"), "name", "b"); err != nil {
		t.Fatal(err)
	}
	c := Lookup(root, "spec", "containers", "0")
	sc, err := EnsureMapping(c, "securityContext")
	if err != nil {
		t.Fatal(err)
	}
	if err := SetValue(sc, "privileged", false); err != nil {
		t.Fatal(err)
	}
	out, err = f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := "# crlf\r\nkind: Pod\r\nmetadata:\r\n  name: b # c\r\nspec:\r\n  containers:\r\n  - name: x\r\n    securityContext:\r\n      privileged: false\r\n"
	if string(out) != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
}

func TestMixedLineEndings(t *testing.T) {
	_, err := Parse("mixed.yaml", []byte("a: 1\r\nb: 2\nc: 3\r\n"))
	if !errors.Is(err, ErrMixedLineEndings) || !strings.HasPrefix(err.Error(), "mixed.yaml:2: ") {
		t.Errorf("error = %v, want mixed.yaml:2: %v", err, ErrMixedLineEndings)
	}
}

func TestAliases(t *testing.T) {
	src := "defaults: &d\n  image: nginx\n  pull: Always\nweb:\n  <<: *d\n  name: web\nlist: &l [a, b]\nother: *l\nplain: 1\n"
	edit := func(t *testing.T, do func(root *yaml.Node) error) ([]byte, error) {
		t.Helper()
		f, err := Parse("anchors.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if err := do(f.Documents()[0].Root()); err != nil {
			return nil, err
		}
		return f.Bytes()
	}
	refused := map[string]func(root *yaml.Node) error{
		"change anchored mapping": func(r *yaml.Node) error { return SetScalar(Lookup(r, "defaults"), "image", "httpd") },
		"add to anchored mapping": func(r *yaml.Node) error { return SetScalar(Lookup(r, "defaults"), "tag", "1") },
		"delete anchored value": func(r *yaml.Node) error {
			_, err := Delete(r, "defaults")
			return err
		},
		"replace alias": func(r *yaml.Node) error { return SetScalar(r, "other", "x") },
		"edit through alias": func(r *yaml.Node) error {
			return SetScalar(Lookup(r, "other"), "x", "y")
		},
		"append to anchored sequence": func(r *yaml.Node) error { return Append(Lookup(r, "list"), String("c")) },
	}
	for name, do := range refused {
		t.Run(name, func(t *testing.T) {
			out, err := edit(t, do)
			if !errors.Is(err, ErrAlias) {
				t.Errorf("err = %v, want ErrAlias; output:\n%s", err, out)
			}
		})
	}
	t.Run("edit elsewhere", func(t *testing.T) {
		out, err := edit(t, func(r *yaml.Node) error {
			if err := SetScalar(Lookup(r, "web"), "name", "api"); err != nil {
				return err
			}
			return SetValue(r, "plain", 2)
		})
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Replace(strings.Replace(src, "name: web", "name: api", 1), "plain: 1", "plain: 2", 1)
		if string(out) != want {
			t.Errorf("got:\n%s", Diff("anchors.yaml", []byte(want), out))
		}
	})
}

func TestEditErrors(t *testing.T) {
	f, err := Parse("e.yaml", []byte("a: 1\nb:\n  c: 2\nl: [1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := f.Documents()[0].Root()
	checks := map[string]error{
		"ensure through scalar": func() error { _, err := EnsureMapping(r, "a", "x"); return err }(),
		"rename to existing":    Rename(r, "a", "b"),
		"rename missing":        Rename(r, "zz", "y"),
		"insert existing":       InsertAfter(r, "", "a", String("x")),
		"insert after missing":  InsertAfter(r, "zz", "y", String("x")),
		"append to mapping":     Append(r, String("x")),
		"set on sequence":       SetScalar(Lookup(r, "l"), "x", "y"),
		"move missing":          Move(r, []string{"zz"}, []string{"y"}),
		"move onto existing":    Move(r, []string{"a"}, []string{"b", "c"}),
	}
	for name, err := range checks {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// EnsureMapping turns a null value into a mapping.
	f, err = Parse("n.yaml", []byte("a:\nb: ~\n"))
	if err != nil {
		t.Fatal(err)
	}
	r = f.Documents()[0].Root()
	for _, k := range []string{"a", "b"} {
		m, err := EnsureMapping(r, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := SetValue(m, "x", 1); err != nil {
			t.Fatal(err)
		}
	}
	out, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if want := "a:\n  x: 1\nb:\n  x: 1\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

// TestUnicode: a byte order mark and multi-byte characters before an edited
// scalar on its line do not shift the edit.
func TestUnicode(t *testing.T) {
	cases := map[string]struct{ src, want string }{
		"byte order mark": {"\ufeffapiVersion: v1 # c\r\nkind: Pod\r\n", "\ufeffrenamed: new # c\r\nkind: Pod\r\n"},
		"cyrillic":        {"ключ: значение # c\nk: [ä, b]\n", "renamed: new # c\nk: [ä, b]\n"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := Parse("u.yaml", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			if out, err := f.Bytes(); err != nil || string(out) != c.src {
				t.Fatalf("round trip: %q, %v", out, err)
			}
			r := f.Documents()[0].Root()
			k := r.Content[0].Value
			if err := SetScalar(r, k, "new"); err != nil {
				t.Fatal(err)
			}
			if err := Rename(r, k, "renamed"); err != nil {
				t.Fatal(err)
			}
			out, err := f.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != c.want {
				t.Errorf("got %q, want %q", out, c.want)
			}
		})
	}
}
