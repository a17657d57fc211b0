// Package manifest reads Kubernetes manifests from files, directories and
// standard input into a snapshot: multi-document YAML, JSON and List kinds,
// each object with the file, line and document it came from.
//
// A document that cannot be read as an object (a syntax error, a duplicate
// key, a field of the wrong type for a built-in kind, an unrendered template
// placeholder, an alias bomb) becomes a snapshot.Invalid with its line, and
// every other document is still read. Only a usage mistake, such as a path
// that does not exist, is returned as an error.
//
// The package reads; it must not judge objects (checks do that), print, reach
// a cluster, or follow anything outside the paths it is given.
package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// Stdin is the path that names standard input.
const Stdin = "-"

// Default limits.
const (
	DefaultMaxFileBytes     int64 = 256 << 20
	DefaultMaxDocumentBytes int64 = 64 << 20
	DefaultAliasBudget            = 10000
	DefaultAliasRatio             = 100
)

// Options tune Read and Decoder. The zero value is ready to use.
type Options struct {
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Concurrency bounds how many files are decoded at once (default GOMAXPROCS).
	Concurrency int
	// MaxFileBytes is the largest file read; a larger one is reported as
	// invalid without being read (default 256 MiB).
	MaxFileBytes int64
	// MaxDocumentBytes is the largest single document read (default 64 MiB).
	MaxDocumentBytes int64
	// AliasBudget and AliasRatio bound how far YAML aliases may expand: a
	// document may produce at most max(AliasBudget, AliasRatio × the values
	// written in it) values (defaults 10,000 and 100).
	AliasBudget int
	AliasRatio  int
	// Progress, when set, is called as each file is read, with the number
	// read so far, the number to read and the file's path. Calls are
	// serialized.
	Progress func(done, total int, path string)
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxDocumentBytes <= 0 {
		o.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if o.AliasBudget <= 0 {
		o.AliasBudget = DefaultAliasBudget
	}
	if o.AliasRatio <= 0 {
		o.AliasRatio = DefaultAliasRatio
	}
	return o
}

// input is one file to decode.
type input struct {
	path string
	// named is set for a file the user named: failing to open it is an error,
	// not an invalid entry.
	named bool
	size  int64
}

// Read reads the manifests at paths: files (whatever their extension),
// directories (recursively: files ending in .yaml, .yml or .json, skipping
// hidden files and directories) and "-" for opts.Stdin. A path that does not
// exist is an error; everything wrong inside the files is in the snapshot's
// Invalid list. The snapshot is sorted.
func Read(ctx context.Context, paths []string, opts Options) (*snapshot.Snapshot, error) {
	opts = opts.withDefaults()
	snap := &snapshot.Snapshot{Source: snapshot.SourceFiles}
	inputs, invalid, err := collect(ctx, paths)
	if err != nil {
		return nil, err
	}
	snap.Invalid = invalid

	d := NewDecoder(opts)
	type result struct {
		objects []snapshot.Object
		invalid []snapshot.Invalid
	}
	results := make([]result, len(inputs))
	g, gctx := errgroup.WithContext(ctx)
	// Readers only cut files into documents; the Decoder bounds the parsing.
	// A reader more than there are parsers keeps the parsers fed. Each
	// reader takes the next file until none is left.
	var progressMu sync.Mutex
	done := 0
	var next atomic.Int64
	for range min(2*opts.Concurrency, len(inputs)) {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(inputs) || gctx.Err() != nil {
					return nil
				}
				in := inputs[i]
				objs, inv, err := d.readInput(gctx, in, opts.Stdin)
				results[i] = result{objs, inv}
				if opts.Progress != nil {
					progressMu.Lock()
					done++
					opts.Progress(done, len(inputs), in.path)
					progressMu.Unlock()
				}
				if err != nil {
					return err
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	n := 0
	for _, r := range results {
		n += len(r.objects)
	}
	snap.Objects = make([]snapshot.Object, 0, n)
	for _, r := range results {
		snap.Objects = append(snap.Objects, r.objects...)
		snap.Invalid = append(snap.Invalid, r.invalid...)
	}
	snap.Sort()
	return snap, nil
}

// readInput decodes one file or standard input.
func (d *Decoder) readInput(ctx context.Context, in input, stdin io.Reader) ([]snapshot.Object, []snapshot.Invalid, error) {
	fileInvalid := func(reason string) []snapshot.Invalid {
		return []snapshot.Invalid{{Origin: snapshot.Origin{Path: in.path, Item: -1}, Reason: reason}}
	}
	if in.path == Stdin {
		if stdin == nil {
			return nil, nil, errors.New(`read "-": no standard input to read`)
		}
		return d.Decode(ctx, stdin, Stdin)
	}
	if in.size > d.opts.MaxFileBytes {
		return nil, fileInvalid(fmt.Sprintf("file is %s, larger than the limit of %s (--max-file-size); not read",
			formatSize(in.size), formatSize(d.opts.MaxFileBytes))), nil
	}
	f, err := os.Open(in.path)
	if err != nil {
		if in.named {
			return nil, nil, fmt.Errorf("read %q: %w", in.path, unwrapPath(err))
		}
		return nil, fileInvalid(fmt.Sprintf("cannot open: %v", unwrapPath(err))), nil
	}
	defer f.Close()
	var objs []snapshot.Object
	var inv []snapshot.Invalid
	if src, ok, rerr := readWhole(f, in.size, d.opts.MaxFileBytes); rerr != nil {
		err = fmt.Errorf("read %q: %w", in.path, rerr)
	} else if ok {
		objs, inv, err = d.decodeBytes(ctx, src, in.path)
	} else {
		objs, inv, err = d.Decode(ctx, f, in.path)
	}
	if err != nil && ctx.Err() == nil && !in.named {
		// A file found in a directory that fails half way: keep what was read.
		inv = append(inv, fileInvalid(fmt.Sprintf("reading stopped: %v", unwrapPath(errors.Unwrap(err))))...)
		return objs, inv, nil
	}
	return objs, inv, err
}

// maxWhole is the largest file read whole before it is cut into documents;
// a larger one is read as a stream, a few documents at a time.
const maxWhole = 32 << 20

// readWhole reads the regular file f, whose size was size when it was
// listed, whole. When it should not or cannot (a file that is not regular
// or is large, a file that grew, a read error) it reports false and leaves
// f at its start, to be read as a stream instead, which reports what goes
// wrong as it always does. The error is for failing to go back to the start.
func readWhole(f *os.File, size, maxFile int64) ([]byte, bool, error) {
	if size > maxWhole || size > maxFile {
		return nil, false, nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != size {
		return nil, false, nil
	}
	// One byte more than expected shows a file that grew.
	buf := make([]byte, size+1)
	n, err := io.ReadFull(f, buf)
	if (err == io.ErrUnexpectedEOF || err == io.EOF) && int64(n) == size {
		return buf[:n:n], true, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, false, err
	}
	return nil, false, nil
}

// unwrapPath drops the operation and path of an *fs.PathError, which the
// caller states itself.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// collect turns the paths the user gave into files to read. Directories that
// cannot be listed become invalid entries.
func collect(ctx context.Context, paths []string) ([]input, []snapshot.Invalid, error) {
	if len(paths) == 0 {
		return nil, nil, errors.New("read manifests: no paths given")
	}
	w := &walker{ctx: ctx, seen: make(map[string]bool), dirs: make(map[string]bool)}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if p == Stdin {
			if !w.seen[Stdin] {
				w.seen[Stdin] = true
				w.inputs = append(w.inputs, input{path: Stdin, named: true})
			}
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read %q: %w", p, unwrapPath(err))
		}
		if !fi.IsDir() {
			w.add(p, fi, true)
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read %q: %w", p, unwrapPath(err))
		}
		if err := w.walk(p, real); err != nil {
			return nil, nil, err
		}
		if err := w.walkLinks(); err != nil {
			return nil, nil, err
		}
	}
	return w.inputs, w.invalid, nil
}

type walker struct {
	ctx     context.Context
	seen    map[string]bool // files already listed, by cleaned path
	dirs    map[string]bool // directories already walked, by real path
	links   []string        // linked directories still to walk
	inputs  []input
	invalid []snapshot.Invalid
}

func (w *walker) add(p string, fi fs.FileInfo, named bool) {
	key := filepath.Clean(p)
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	w.inputs = append(w.inputs, input{path: p, named: named, size: fi.Size()})
}

// walk lists dir, whose path with symbolic links resolved is real. Symbolic
// links to directories are followed, but no directory is walked twice, so a
// link loop ends.
func (w *walker) walk(dir, real string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.dirs[real] {
		return nil
	}
	w.dirs[real] = true
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.invalid = append(w.invalid, snapshot.Invalid{
			Origin: snapshot.Origin{Path: dir, Item: -1},
			Reason: fmt.Sprintf("cannot list directory: %v", unwrapPath(err)),
		})
		if len(entries) == 0 {
			return nil
		}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		typ := e.Type()
		if typ&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				if manifestName(name) {
					w.invalid = append(w.invalid, snapshot.Invalid{
						Origin: snapshot.Origin{Path: p, Item: -1},
						Reason: fmt.Sprintf("cannot follow symbolic link: %v", unwrapPath(err)),
					})
				}
				continue
			}
			if fi.IsDir() {
				w.links = append(w.links, p)
				continue
			}
			if fi.Mode().IsRegular() && manifestName(name) {
				w.add(p, fi, false)
			}
			continue
		}
		if e.IsDir() {
			if err := w.walk(p, filepath.Join(real, name)); err != nil {
				return err
			}
			continue
		}
		if !typ.IsRegular() || !manifestName(name) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			w.invalid = append(w.invalid, snapshot.Invalid{
				Origin: snapshot.Origin{Path: p, Item: -1},
				Reason: fmt.Sprintf("cannot open: %v", unwrapPath(err)),
			})
			continue
		}
		w.add(p, fi, false)
	}
	return nil
}

// walkLinks walks the linked directories found so far, and those found in
// them. They come after the whole tree, so that a directory reachable both
// directly and through a link is listed under its own name.
func (w *walker) walkLinks() error {
	for len(w.links) > 0 {
		p := w.links[0]
		w.links = w.links[1:]
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue
		}
		if err := w.walk(p, target); err != nil {
			return err
		}
	}
	return nil
}

// manifestName reports whether a file found in a directory is read.
func manifestName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}
