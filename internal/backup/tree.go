package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// treeWriter receives the files of a backup as they are made. For a
// directory target each file goes straight to the temporary tree beside the
// target (each directory is created once), so the rendered bytes are not
// held until the end; a file whose bytes equal the previous backup's is only
// noted, and hard-linked from it by linkUnchanged once the backup is known to
// differ (an unchanged backup touches no file). For a tarball the bytes are kept
// and written, sorted, by writeTarball. Either way the sha256 of every file
// is recorded for the manifest.
//
// Files are created by two goroutines while callers render and encrypt in
// parallel. Creating a file is mostly kernel time, so a second writer
// overlaps it with the first's; more only contend for the directory (most
// files of a large backup share one) and the file system's journal.
// BenchmarkBackup compares two writers with one. put hands the bytes over
// and returns.
type treeWriter struct {
	// tmp is the temporary directory tree, "" for a tarball.
	tmp string
	// prevDir is the previous complete backup directory, "" when none.
	prevDir string
	prev    map[string][]byte

	afterFile func(n int)
	written   atomic.Int64

	mu   sync.Mutex
	sums map[string]string
	data map[string][]byte
	dirs map[string]*dirOnce
	// same are files with the previous backup's bytes, to link from prevDir.
	same []string
	// keep is set when a write failed: the partial tree stays for inspection.
	keep bool

	// queue feeds the writer goroutines; stopped is closed when they have
	// returned. werr, under mu, is their first error.
	queue   chan file
	stopped chan struct{}
	closed  sync.Once
	werr    error
}

// fileWriters is the number of goroutines creating files.
const fileWriters = 2

type dirOnce struct {
	once sync.Once
	err  error
}

// newTreeWriter prepares the temporary target for opts.Out. prev is the
// previous backup's content (nil when none), read from a directory when
// prevIsDir.
func newTreeWriter(opts WriteOptions, prev map[string][]byte, prevIsDir bool) (*treeWriter, error) {
	w := &treeWriter{prev: prev, afterFile: opts.afterFile, sums: map[string]string{}, dirs: map[string]*dirOnce{}}
	if isTarball(opts.Out) {
		w.data = map[string][]byte{}
		return w, nil
	}
	out := filepath.Clean(opts.Out)
	if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("backup: %s exists and is not a directory", out)
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".partial-")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	w.tmp = tmp
	if prevIsDir && prev != nil {
		w.prevDir = out
	}
	w.queue = make(chan file, 512)
	w.stopped = make(chan struct{})
	n := opts.writers
	if n <= 0 {
		n = fileWriters
	}
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		go w.run(&wg)
	}
	go func() {
		wg.Wait()
		close(w.stopped)
	}()
	return w, nil
}

// run writes queued files until the queue closes; after a failure the
// writers only drain the queue.
func (w *treeWriter) run(wg *sync.WaitGroup) {
	defer wg.Done()
	for f := range w.queue {
		if w.writeErr() != nil {
			continue
		}
		if err := w.write(f.path, f.data); err != nil {
			w.mu.Lock()
			if w.werr == nil {
				w.werr = err
			}
			w.mu.Unlock()
		}
	}
}

// flush waits until every queued file is written and returns the first
// error. put must not be called after it.
func (w *treeWriter) flush() error {
	if w.queue == nil {
		return nil
	}
	w.closed.Do(func() { close(w.queue) })
	<-w.stopped
	return w.werr
}

// writeErr is the first error a writer met, so far.
func (w *treeWriter) writeErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.werr
}

// put adds one file of the backup. Paths are slash-separated and relative.
func (w *treeWriter) put(p string, data []byte) error {
	sum := sha(data)
	w.mu.Lock()
	if _, dup := w.sums[p]; dup {
		w.mu.Unlock()
		return fmt.Errorf("backup: %s made twice", p)
	}
	w.sums[p] = sum
	if w.data != nil {
		w.data[p] = data
	}
	w.mu.Unlock()
	if w.tmp == "" {
		return nil
	}
	if old, ok := w.prev[p]; ok && w.prevDir != "" && bytes.Equal(old, data) {
		w.mu.Lock()
		w.same = append(w.same, p)
		w.mu.Unlock()
		return nil
	}
	if err := w.writeErr(); err != nil {
		return err // stop making files a failed writer would only drop
	}
	w.queue <- file{p, data}
	return nil
}

// write writes one file into the temporary tree.
func (w *treeWriter) write(p string, data []byte) error {
	if err := w.ensureDir(path.Dir(p)); err != nil {
		return w.failed(p, err)
	}
	if err := writeFile(filepath.Join(w.tmp, filepath.FromSlash(p)), data); err != nil {
		return w.failed(p, err)
	}
	w.wrote()
	return nil
}

func (w *treeWriter) wrote() {
	if w.afterFile != nil {
		w.afterFile(int(w.written.Add(1)))
	}
}

// linkUnchanged hard-links the files that kept their bytes from the
// previous backup into the temporary tree (writing them where a link is
// not possible, another file system for instance), after the queued files
// are written. One goroutine links, for the reason one writes.
func (w *treeWriter) linkUnchanged(ctx context.Context) error {
	if err := w.flush(); err != nil {
		return err
	}
	sort.Strings(w.same)
	for _, p := range w.same {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.ensureDir(path.Dir(p)); err != nil {
			return w.failed(p, err)
		}
		dst := filepath.Join(w.tmp, filepath.FromSlash(p))
		if os.Link(filepath.Join(w.prevDir, filepath.FromSlash(p)), dst) != nil {
			_ = os.Remove(dst)
			if err := writeFile(dst, w.prev[p]); err != nil {
				return w.failed(p, err)
			}
		}
		w.wrote()
	}
	return nil
}

func (w *treeWriter) failed(p string, err error) error {
	w.mu.Lock()
	w.keep = true
	w.mu.Unlock()
	return fmt.Errorf("backup: write %s (partial backup left in %s): %w", p, w.tmp, err)
}

// ensureDir creates directory d of the temporary tree, and its parents,
// once. Each level is made with Mkdir, never MkdirAll from the top: if the
// temporary tree is removed or replaced midway, the next directory fails
// to be made instead of bringing back an empty tree that would lack the
// files already written.
func (w *treeWriter) ensureDir(d string) error {
	if d == "." || d == "" {
		return nil
	}
	w.mu.Lock()
	o := w.dirs[d]
	if o == nil {
		o = &dirOnce{}
		w.dirs[d] = o
	}
	w.mu.Unlock()
	o.once.Do(func() {
		if o.err = w.ensureDir(path.Dir(d)); o.err != nil {
			return
		}
		o.err = os.Mkdir(filepath.Join(w.tmp, filepath.FromSlash(d)), 0o755)
	})
	return o.err
}

// abandon removes the temporary tree after an error that was not a failed
// write (a failed write leaves it, as its error says).
func (w *treeWriter) abandon() {
	_ = w.flush()
	w.mu.Lock()
	keep := w.keep
	w.mu.Unlock()
	if w.tmp != "" && !keep {
		_ = os.RemoveAll(w.tmp)
	}
}

// discard removes the temporary tree when the previous backup already holds
// the same content.
func (w *treeWriter) discard() {
	_ = w.flush()
	if w.tmp != "" {
		_ = os.RemoveAll(w.tmp)
	}
}

// complete checks that the temporary tree holds every file the backup
// made, before the manifest vouches for them: a tree that something else
// changed midway (a cleanup job, a person) is left as a partial backup.
// It reads the directories only, no file.
func (w *treeWriter) complete() error {
	n, err := countFiles(w.tmp)
	if err != nil {
		return w.failed(".", err)
	}
	if n != len(w.sums) {
		return w.failed(".", fmt.Errorf("the tree holds %d files, the backup made %d: something changed it while it was written", n, len(w.sums)))
	}
	return nil
}

// countFiles counts the regular files under dir, reading each directory
// unsorted.
func countFiles(dir string) (int, error) {
	f, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		switch {
		case e.IsDir():
			k, err := countFiles(filepath.Join(dir, e.Name()))
			if err != nil {
				return 0, err
			}
			n += k
		case e.Type().IsRegular():
			n++
		}
	}
	return n, nil
}

// finishDir writes manifest.yaml last into the temporary tree, carries over
// what the backup does not own from the target, and renames it into place.
func (w *treeWriter) finishDir(out string, manifest []byte) error {
	out = filepath.Clean(out)
	tmp := w.tmp
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.complete(); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(tmp, ManifestFile), manifest); err != nil {
		return w.failed(ManifestFile, err)
	}
	// Carry over what the backup does not own (.git, README.md...).
	entries, err := os.ReadDir(out)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, out); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	for _, e := range entries {
		if owned(e.Name()) || owned(e.Name()+"/") {
			continue
		}
		if err := os.Rename(filepath.Join(out, e.Name()), filepath.Join(tmp, e.Name())); err != nil {
			return fmt.Errorf("backup: carry over %s: %w", e.Name(), err)
		}
	}
	old := tmp + ".old"
	if err := os.Rename(out, old); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		_ = os.Rename(old, out)
		return fmt.Errorf("backup: %w", err)
	}
	return os.RemoveAll(old)
}

// identicalSums reports whether prev holds exactly the files whose sha256
// are sums, plus the manifest.
func identicalSums(prev map[string][]byte, sums map[string]string, manifest []byte) bool {
	n := 0
	for p := range prev {
		if owned(p) {
			n++
		}
	}
	if n != len(sums)+1 || !bytes.Equal(prev[ManifestFile], manifest) {
		return false
	}
	for p, s := range sums {
		b, ok := prev[p]
		if !ok || !strings.EqualFold(sha(b), s) {
			return false
		}
	}
	return true
}
