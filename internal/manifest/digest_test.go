package manifest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// TestReadDigest guards the reading of the shared corpora against silent
// change: for every file it records how many objects and invalid entries it
// yields and a digest of all of them (each value with its Go type, origins
// and reasons), and compares that with a golden file written by the reader
// as it was before it was made faster. Any change in what is read, however
// small (an int64 that becomes a float64, a line that moves), shows up as
// the file whose digest differs.
func TestReadDigest(t *testing.T) {
	for _, name := range []string{"corpus", "corpus-malformed"} {
		t.Run(name, func(t *testing.T) {
			dir := corpusDir(t, name)
			snap, err := Read(context.Background(), []string{dir}, Options{})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			golden.Check(t, "digest-"+name+".txt", digestSnapshot(t, dir, snap))
		})
	}
}

// digestSnapshot writes one line per file: its path relative to dir, the
// counts of objects and invalid entries, and a digest of their dump.
func digestSnapshot(t *testing.T, dir string, snap *snapshot.Snapshot) []byte {
	t.Helper()
	type file struct {
		objects, invalid int
		dump             bytes.Buffer
	}
	files := map[string]*file{}
	get := func(p string) *file {
		r, err := filepath.Rel(dir, p)
		if err != nil {
			t.Fatalf("path %s outside %s", p, dir)
		}
		r = filepath.ToSlash(r)
		f := files[r]
		if f == nil {
			f = &file{}
			files[r] = f
		}
		return f
	}
	for _, o := range snap.Objects {
		f := get(o.Origin.Path)
		f.objects++
		fmt.Fprintf(&f.dump, "object %d %d %d\n", o.Origin.Line, o.Origin.Document, o.Origin.Item)
		dumpValue(&f.dump, o.Object)
		f.dump.WriteByte('\n')
	}
	for _, inv := range snap.Invalid {
		f := get(inv.Origin.Path)
		f.invalid++
		fmt.Fprintf(&f.dump, "invalid %d %d %d %q\n", inv.Origin.Line, inv.Origin.Document, inv.Origin.Item, inv.Reason)
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var out bytes.Buffer
	for _, n := range names {
		f := files[n]
		sum := sha256.Sum256(f.dump.Bytes())
		fmt.Fprintf(&out, "%s objects=%d invalid=%d %x\n", n, f.objects, f.invalid, sum[:12])
	}
	return out.Bytes()
}

// dumpValue writes v with the Go type of every value, keys sorted.
func dumpValue(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		b.WriteString("s")
		b.WriteString(strconv.Quote(v))
	case int64:
		b.WriteString("i")
		b.WriteString(strconv.FormatInt(v, 10))
	case float64:
		b.WriteString("f")
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case bool:
		b.WriteString("b")
		b.WriteString(strconv.FormatBool(v))
	case []any:
		b.WriteString("[")
		for i, e := range v {
			if i > 0 {
				b.WriteString(",")
			}
			dumpValue(b, e)
		}
		b.WriteString("]")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(strconv.Quote(k))
			b.WriteString(":")
			dumpValue(b, v[k])
		}
		b.WriteString("}")
	default:
		fmt.Fprintf(b, "?%T(%v)", v, v)
	}
}
