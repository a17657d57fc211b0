package manifest

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkReadCorpus reads the whole shared corpus of real manifests.
func BenchmarkReadCorpus(b *testing.B) {
	dir := corpusDir(b, "corpus")
	var size int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !manifestName(d.Name()) {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			size += fi.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	benchmarkRead(b, []string{dir}, size)
}

// BenchmarkReadGenerated100k reads 100,000 generated objects in 400 files.
func BenchmarkReadGenerated100k(b *testing.B) { benchmarkGenerated(b, 400, 100_000) }

// BenchmarkReadGenerated25k reads a quarter of that, to show how reading
// scales: a quarter of the time is linear.
func BenchmarkReadGenerated25k(b *testing.B) { benchmarkGenerated(b, 100, 25_000) }

func benchmarkGenerated(b *testing.B, files, objects int) {
	dir := b.TempDir()
	var buf bytes.Buffer
	var size int64
	for f := range files {
		buf.Reset()
		for i := f * objects / files; i < (f+1)*objects/files; i++ {
			buf.WriteString(generated(i))
		}
		write(b, filepath.Join(dir, fmt.Sprintf("part-%03d", f/100), fmt.Sprintf("objects-%03d.yaml", f)), buf.String())
		size += int64(buf.Len())
	}
	snap := benchmarkRead(b, []string{dir}, size)
	if len(snap) != objects {
		b.Fatalf("read %d objects, want %d", len(snap), objects)
	}
}

// benchmarkRead reads paths b.N times, reporting objects and megabytes per
// second, and returns the names of the objects read the last time.
func benchmarkRead(b *testing.B, paths []string, size int64) []string {
	b.Helper()
	ctx := context.Background()
	var names []string
	objects := 0
	for b.Loop() {
		snap, err := Read(ctx, paths, Options{})
		if err != nil {
			b.Fatal(err)
		}
		objects = len(snap.Objects)
		names = names[:0]
		for _, o := range snap.Objects {
			names = append(names, o.GetName())
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(objects)/sec, "objects/s")
	b.ReportMetric(float64(size)/(1<<20)/sec, "MB/s")
	return names
}

// BenchmarkDecode decodes one typical multi-document file: a Deployment, a
// Service and a ConfigMap, ten times over.
func BenchmarkDecode(b *testing.B) {
	var sb strings.Builder
	for i := range 30 {
		sb.WriteString(generated(i))
	}
	in := sb.String()
	d := NewDecoder(Options{})
	ctx := context.Background()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		objects, invalid, err := d.Decode(ctx, strings.NewReader(in), "app.yaml")
		if err != nil || len(invalid) > 0 || len(objects) != 30 {
			b.Fatalf("Decode = %d objects, %v, %v", len(objects), invalid, err)
		}
	}
	b.ReportMetric(30*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}
