package backup

import (
	"bytes"
	"compress/gzip"
	"io"
	"sync/atomic"
)

// gzipChunk is how much of the stream one gzip member holds.
const gzipChunk = 1 << 20

// parallelGzip compresses a stream as a sequence of gzip members, one per
// gzipChunk bytes of input, compressed by up to `workers` goroutines at
// once and written in order. A gzip file may hold several members
// (RFC 1952, section 2.2); gzip, tar and Go's gzip.Reader read them as one
// stream. The output depends only on the input: the members carry no name
// and no time, and the chunk boundaries are fixed.
type parallelGzip struct {
	w     io.Writer
	level int
	buf   []byte
	slots chan struct{}   // bounds the chunks in flight
	queue chan chan chunk // the chunks' results, in input order
	done  chan error      // the writer goroutine's result
	err   error
	// failed is the drain's first error, for Write to stop early.
	failed atomic.Pointer[error]
	// flushed: a chunk was handed on.
	flushed bool
}

type chunk struct {
	data []byte
	err  error
}

func newParallelGzip(w io.Writer, level, workers int) *parallelGzip {
	z := &parallelGzip{
		w:     w,
		level: level,
		slots: make(chan struct{}, workers+1),
		queue: make(chan chan chunk, workers+1),
		done:  make(chan error, 1),
	}
	go z.drain()
	return z
}

// drain writes the compressed chunks in order; after a failure it keeps
// receiving so that no compressor blocks, and reports the first error.
func (z *parallelGzip) drain() {
	var err error
	for res := range z.queue {
		c := <-res
		if err == nil {
			err = c.err
		}
		if err == nil {
			_, err = z.w.Write(c.data)
		}
		if err != nil && z.failed.Load() == nil {
			z.failed.Store(&err)
		}
		<-z.slots
	}
	z.done <- err
}

// Write buffers p and hands on full chunks. It fails once writing a
// compressed chunk has failed; the error is also Close's.
func (z *parallelGzip) Write(p []byte) (int, error) {
	if e := z.failed.Load(); e != nil {
		return 0, *e
	}
	n := len(p)
	for len(p) > 0 {
		if z.buf == nil {
			z.buf = make([]byte, 0, gzipChunk)
		}
		k := min(len(p), gzipChunk-len(z.buf))
		z.buf = append(z.buf, p[:k]...)
		p = p[k:]
		if len(z.buf) == gzipChunk {
			z.flush()
		}
	}
	return n, nil
}

// flush hands the buffered input to a compressor.
func (z *parallelGzip) flush() {
	data := z.buf
	z.buf = nil
	z.flushed = true
	res := make(chan chunk, 1)
	z.slots <- struct{}{}
	z.queue <- res
	go func() {
		var out bytes.Buffer
		out.Grow(len(data)/3 + 64)
		zw, err := gzip.NewWriterLevel(&out, z.level)
		if err == nil {
			_, err = zw.Write(data)
		}
		if err == nil {
			err = zw.Close()
		}
		res <- chunk{out.Bytes(), err}
	}()
}

// Close compresses what is left, waits for every chunk to be written and
// returns the first error. The underlying writer is not closed.
func (z *parallelGzip) Close() error {
	if z.queue == nil {
		return z.err
	}
	if len(z.buf) > 0 || !z.flushed {
		z.flush() // an empty input still makes one valid member
	}
	close(z.queue)
	z.err = <-z.done
	z.queue = nil
	return z.err
}
