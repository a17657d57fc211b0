package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// chunk is the text of one YAML document as the splitter cut it out.
type chunk struct {
	// data is the document's text, starting with its "---" line if it has one.
	data []byte
	// line is the 1-based line of data's first byte in the file.
	line int
	// empty is set when the document holds only blank lines and comments.
	empty bool
	// size is set when the document is larger than the limit; data is then nil.
	size int64
	// shared is set when data is part of the input the splitter was given
	// whole, which is never changed: it need not be copied to be kept.
	shared bool
}

// errFileTooLarge stops the splitter when the input outgrows the file limit.
type errFileTooLarge struct{}

func (e errFileTooLarge) Error() string { return "input larger than the file limit" }

// splitter cuts a stream into YAML documents at "---" and "..." lines without
// parsing it, so that one broken document does not hide the next, and so that
// no more than one document is held in memory at a time.
type splitter struct {
	r        *bufio.Reader
	maxDoc   int64
	maxFile  int64
	read     int64
	line     int // lines consumed so far
	buf      []byte
	pending  []byte // a "---" line that starts the next document, when hasNext
	hasNext  bool
	started  bool
	finished bool

	// src is the whole input when the splitter was given one (newSliceSplitter),
	// and pos the offset of its next line. A document is then a window of
	// src, [winStart, winEnd), unless a line had to be changed (a directive
	// dropped), when it is copied to buf as in a stream.
	src              []byte
	pos              int
	lineAt           int // offset in src of the line last read
	pendingAt        int // offset in src of pending, or -1
	winStart, winEnd int
	copying          bool
}

// newSplitter reads from br, which the caller owns and has reset to its input.
func newSplitter(br *bufio.Reader, maxDoc, maxFile int64) *splitter {
	return &splitter{r: br, maxDoc: maxDoc, maxFile: maxFile}
}

// newSliceSplitter cuts src, which must not change while the documents are
// in use, without copying it.
func newSliceSplitter(src []byte, maxDoc, maxFile int64) *splitter {
	return &splitter{src: src, maxDoc: maxDoc, maxFile: maxFile}
}

// keep adds line, found at offset at of src (-1 if it is not as found
// there, or there is no src), to the document being read.
func (s *splitter) keep(line []byte, at int) {
	if !s.copying {
		if at >= 0 && (s.winStart < 0 || at == s.winEnd) {
			if s.winStart < 0 {
				s.winStart = at
			}
			s.winEnd = at + len(line)
			return
		}
		s.copying = true
		if s.winStart >= 0 {
			s.buf = append(s.buf[:0], s.src[s.winStart:s.winEnd]...)
		}
	}
	s.buf = append(s.buf, line...)
}

// next returns the next document, io.EOF after the last, or the read error.
// The returned chunk's data is valid until the following call.
func (s *splitter) next() (chunk, error) {
	for {
		if s.finished {
			return chunk{}, io.EOF
		}
		c, ok, err := s.readDocument()
		if err != nil {
			return chunk{}, err
		}
		if ok {
			return c, nil
		}
	}
}

// readDocument reads up to the next document boundary. It reports ok=false for
// a stretch of text that is not a document: blank lines and comments before the
// first "---" or after a "..." line.
func (s *splitter) readDocument() (chunk, bool, error) {
	c := chunk{line: s.line + 1, empty: true}
	s.buf = s.buf[:0]
	s.winStart, s.winEnd, s.copying = -1, -1, s.src == nil
	explicit := s.hasNext
	if s.hasNext {
		c.line = s.line // the "---" line was already counted
		s.keep(s.pending, s.pendingAt)
		c.empty = !hasContent(s.pending[3:])
		s.hasNext = false
	}
	size := int64(len(s.buf))
	for {
		line, err := s.readLine()
		if len(line) > 0 {
			s.line++
			at := s.lineAt
			if !s.started {
				s.started = true
				if bytes.HasPrefix(line, []byte("\xef\xbb\xbf")) {
					line = line[3:]
					at += 3
				}
			}
			switch marker(line) {
			case '-':
				s.pending = append(s.pending[:0], line...)
				s.pendingAt = at
				s.hasNext = true
				return s.finish(c, size), explicit || !c.empty, nil
			case '.':
				return s.finish(c, size), explicit || !c.empty, nil
			}
			if c.empty && hasContent(line) {
				if !explicit && line[0] == '%' {
					// A directive such as %YAML belongs to the "---" that
					// follows; keep the line count, drop the text.
					line = []byte("\n")
					at = -1
				} else {
					c.empty = false
				}
			}
			size += int64(len(line))
			if size <= s.maxDoc {
				s.keep(line, at)
			}
		}
		if err == io.EOF {
			s.finished = true
			return s.finish(c, size), explicit || !c.empty, nil
		}
		if err != nil {
			return chunk{}, false, err
		}
	}
}

func (s *splitter) finish(c chunk, size int64) chunk {
	if size > s.maxDoc {
		c.size = size
		return c
	}
	if s.copying {
		c.data = s.buf
	} else if s.winStart >= 0 {
		c.data, c.shared = s.src[s.winStart:s.winEnd:s.winEnd], true
	} else {
		c.data, c.shared = s.src[:0:0], true
	}
	return c
}

// readLine returns the next line including its newline. A line longer than the
// reader's buffer is returned whole, assembled in the scratch space.
func (s *splitter) readLine() ([]byte, error) {
	if s.r == nil {
		s.lineAt = s.pos
		rest := s.src[s.pos:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			s.pos = len(s.src)
			return s.count(rest, io.EOF)
		}
		s.pos += i + 1
		return s.count(rest[:i+1], nil)
	}
	s.lineAt = -1
	line, err := s.r.ReadSlice('\n')
	if err == nil || err == io.EOF {
		return s.count(line, err)
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	long := append([]byte(nil), line...)
	for {
		line, err = s.r.ReadSlice('\n')
		long = append(long, line...)
		if s.read+int64(len(long)) > s.maxFile {
			return nil, errFileTooLarge{}
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return s.count(long, err)
		}
	}
}

func (s *splitter) count(line []byte, err error) ([]byte, error) {
	s.read += int64(len(line))
	if s.read > s.maxFile {
		return nil, errFileTooLarge{}
	}
	return line, err
}

// marker reports whether line is a document marker: '-' for "---", '.' for
// "...", 0 otherwise. A marker is three characters at the start of a line
// followed by white space or the end of the line.
func marker(line []byte) byte {
	if len(line) < 3 {
		return 0
	}
	var m byte
	switch {
	case line[0] == '-' && line[1] == '-' && line[2] == '-':
		m = '-'
	case line[0] == '.' && line[1] == '.' && line[2] == '.':
		m = '.'
	default:
		return 0
	}
	if len(line) == 3 {
		return m
	}
	switch line[3] {
	case ' ', '\t', '\r', '\n':
		return m
	}
	return 0
}

// hasContent reports whether line holds more than white space and a comment.
func hasContent(line []byte) bool {
	for _, b := range line {
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case '#':
			return false
		default:
			return true
		}
	}
	return false
}
