package yamledit

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// benchFile is the largest multi-document file of the corpus.
func benchFile(b *testing.B) (string, []byte) {
	p := filepath.Join("..", "..", "..", "shared", "corpus", "helm-charts-2021", "sparkoperator.yaml")
	src, err := os.ReadFile(p)
	if err != nil {
		b.Skipf("corpus file not present: %v", err)
	}
	return p, src
}

// BenchmarkParse is the baseline: Parse alone (yaml.v3 decoding plus the
// copy of each tree).
func BenchmarkParse(b *testing.B) {
	p, src := benchFile(b)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse(p, src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkYAMLUnmarshal is yaml.v3 decoding the same bytes into nodes,
// document by document, for comparison with Parse.
func BenchmarkYAMLUnmarshal(b *testing.B) {
	p, src := benchFile(b)
	f, err := Parse(p, src)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		for _, d := range f.Documents() {
			var n yaml.Node
			if err := yaml.Unmarshal(src[d.Offset:d.End], &n); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEditBytes is Parse, one edit in every document and Bytes.
func BenchmarkEditBytes(b *testing.B) {
	p, src := benchFile(b)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		f, err := Parse(p, src)
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range f.Documents() {
			if r := d.Root(); r != nil && r.Kind == yaml.MappingNode {
				m, err := EnsureMapping(r, "metadata", "labels")
				if err != nil {
					b.Fatal(err)
				}
				if err := SetScalar(m, "shipshape.dev/fixed", "true"); err != nil {
					b.Fatal(err)
				}
			}
		}
		if _, err := f.Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}
