package backup

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestParallelGzipRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(n int) []byte { // compressible, like YAML
		words := []string{"apiVersion: v1\n", "kind: ConfigMap\n", "  name: ", "web-", "data:\n", "  replicas: 3\n"}
		var b bytes.Buffer
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
		}
		return b.Bytes()[:n]
	}
	for _, n := range []int{0, 1, gzipChunk - 1, gzipChunk, gzipChunk + 1, 5*gzipChunk + gzipChunk/2} {
		for _, workers := range []int{1, 2, 4} {
			in := text(n)
			compress := func() []byte {
				var out bytes.Buffer
				z := newParallelGzip(&out, gzip.BestSpeed, workers)
				// Uneven writes, to cross chunk boundaries mid-write.
				for p := in; len(p) > 0; {
					k := min(len(p), 1+rng.IntN(300_000))
					if _, err := z.Write(p[:k]); err != nil {
						t.Fatal(err)
					}
					p = p[k:]
				}
				if err := z.Close(); err != nil {
					t.Fatal(err)
				}
				return out.Bytes()
			}
			a, b := compress(), compress()
			if !bytes.Equal(a, b) {
				t.Fatalf("%d bytes, %d workers: two compressions differ", n, workers)
			}
			zr, err := gzip.NewReader(bytes.NewReader(a))
			if err != nil {
				t.Fatalf("%d bytes, %d workers: %v", n, workers, err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("%d bytes, %d workers: %v", n, workers, err)
			}
			if !bytes.Equal(got, in) {
				t.Fatalf("%d bytes, %d workers: read back %d bytes that differ from the input", n, workers, len(got))
			}
			if n > 2*gzipChunk && len(a) > n/2 {
				t.Errorf("%d bytes compressed to %d", n, len(a))
			}
			if n == 5*gzipChunk+gzipChunk/2 && workers == 2 {
				if gz, err := exec.LookPath("gzip"); err == nil {
					f := filepath.Join(t.TempDir(), "x.gz")
					if err := os.WriteFile(f, a, 0o600); err != nil {
						t.Fatal(err)
					}
					out, err := exec.Command(gz, "-dc", f).Output()
					if err != nil || !bytes.Equal(out, in) {
						t.Errorf("gzip -dc: %v, %d bytes", err, len(out))
					}
				}
			}
		}
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestParallelGzipWriteError(t *testing.T) {
	z := newParallelGzip(&failAfter{n: 1000}, gzip.BestSpeed, 2)
	data := bytes.Repeat([]byte("x"), 4*gzipChunk+17)
	for i := range data {
		data[i] = byte(i * 7919 >> 3) // poorly compressible
	}
	if _, err := z.Write(data); err != nil {
		t.Fatal(err)
	}
	// Later writes fail once the error is known (the drain may take a moment).
	var werr error
	for range 1000 {
		if _, werr = z.Write(data[:gzipChunk]); werr != nil {
			break
		}
	}
	if werr == nil || werr.Error() != "disk full" {
		t.Errorf("Write after the failure: %v, want the writer's error", werr)
	}
	if err := z.Close(); err == nil || err.Error() != "disk full" {
		t.Fatalf("Close: %v, want the writer's error", err)
	}
}
