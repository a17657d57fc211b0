package cluster

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSON parses one JSON document into the values unstructured objects
// are made of: map[string]any, []any, string, int64, float64, bool and nil.
// Numbers without a decimal point that fit in an int64 become int64, all
// others float64; invalid UTF-8 and unpaired surrogates become U+FFFD;
// duplicate keys keep the last value. This is exactly what
// k8s.io/apimachinery/pkg/util/json.Unmarshal produces into an `any`
// (TestParseJSONMatchesUtilJSON and FuzzParseJSON hold it to that).
//
// It exists because parsing list bodies is most of a snapshot's client CPU
// time. Unlike encoding/json it validates while parsing instead of in a
// separate pass, sizes every map and slice exactly instead of growing it,
// and shares one string per distinct object key within a document: list
// items repeat the same keys hundreds of times. BenchmarkDecodePage
// measures the difference.
func parseJSON(data []byte) (any, error) {
	p := &jsonParser{data: data, keys: make(map[string]string, 256)}
	p.skipSpace()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, p.errorf("unexpected %q after top-level value", p.data[p.pos])
	}
	return v, nil
}

// maxJSONDepth bounds nesting, as encoding/json does, so that hostile input
// cannot exhaust the stack.
const maxJSONDepth = 10000

type jsonParser struct {
	data  []byte
	pos   int
	depth int
	// keys interns object keys.
	keys map[string]string
	// fields and elems are scratch stacks shared by all nesting levels:
	// a container's members are collected here, then copied into a value
	// of exactly the right size.
	fields []jsonField
	elems  []any
}

type jsonField struct {
	key string
	val any
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *jsonParser) errEnd() error { return errors.New("unexpected end of JSON input") }

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.errEnd()
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	default:
		return nil, p.errorf("unexpected %q looking for a value", c)
	}
}

func (p *jsonParser) literal(lit string) error {
	if len(p.data)-p.pos < len(lit) {
		return p.errEnd()
	}
	if string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return p.errorf("invalid literal, want %s", lit)
	}
	p.pos += len(lit)
	return nil
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return p.errorf("exceeded max depth")
	}
	return nil
}

func (p *jsonParser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // '{'
	base := len(p.fields)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		return map[string]any{}, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errEnd()
		}
		if p.data[p.pos] != '"' {
			return nil, p.errorf("unexpected %q looking for an object key", p.data[p.pos])
		}
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errEnd()
		}
		if p.data[p.pos] != ':' {
			return nil, p.errorf("unexpected %q after object key", p.data[p.pos])
		}
		p.pos++
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		p.fields = append(p.fields, jsonField{key, v})
		done, err := p.separator('}', "object value")
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
	}
	fields := p.fields[base:]
	m := make(map[string]any, len(fields))
	for _, f := range fields {
		m[f.key] = f.val
	}
	clear(fields)
	p.fields = p.fields[:base]
	p.depth--
	return m, nil
}

// separator consumes what follows a member of an object or array: a comma
// (done is false) or the closing byte (done is true).
func (p *jsonParser) separator(closing byte, after string) (done bool, err error) {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return false, p.errEnd()
	}
	switch p.data[p.pos] {
	case ',':
		p.pos++
		return false, nil
	case closing:
		p.pos++
		return true, nil
	}
	return false, p.errorf("unexpected %q after %s", p.data[p.pos], after)
}

func (p *jsonParser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // '['
	base := len(p.elems)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return []any{}, nil
	}
	for {
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		p.elems = append(p.elems, v)
		done, err := p.separator(']', "array element")
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
	}
	elems := p.elems[base:]
	out := make([]any, len(elems))
	copy(out, elems)
	clear(elems)
	p.elems = p.elems[:base]
	p.depth--
	return out, nil
}

// key parses an object key, interned when it needs no unescaping.
func (p *jsonParser) key() (string, error) {
	raw, simple, err := p.scanString()
	if err != nil {
		return "", err
	}
	if !simple {
		return unquote(raw), nil
	}
	if k, ok := p.keys[string(raw)]; ok {
		return k, nil
	}
	k := string(raw)
	p.keys[k] = k
	return k, nil
}

func (p *jsonParser) str() (any, error) {
	raw, simple, err := p.scanString()
	if err != nil {
		return nil, err
	}
	if simple {
		return string(raw), nil
	}
	return unquote(raw), nil
}

// scanString moves past a string and returns its raw content without the
// quotes. simple reports that the content is valid UTF-8 without escapes,
// so that it is the string's value as is.
func (p *jsonParser) scanString() (raw []byte, simple bool, err error) {
	start := p.pos + 1
	simple = true
	for i := start; i < len(p.data); i++ {
		switch c := p.data[i]; {
		case c == '"':
			p.pos = i + 1
			raw = p.data[start:i]
			if simple {
				return raw, true, nil
			}
			return raw, utf8.Valid(raw) && !hasEscape(raw), nil
		case c == '\\':
			simple = false
			i++
			if i >= len(p.data) {
				return nil, false, p.errEnd()
			}
			switch p.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(p.data)-i-1 < 4 {
					return nil, false, p.errEnd()
				}
				for _, h := range p.data[i+1 : i+5] {
					if hexVal(h) < 0 {
						p.pos = i
						return nil, false, p.errorf("invalid \\u escape")
					}
				}
				i += 4
			default:
				p.pos = i
				return nil, false, p.errorf("invalid escape \\%c", p.data[i])
			}
		case c < 0x20:
			p.pos = i
			return nil, false, p.errorf("control character %q in string", c)
		case c >= utf8.RuneSelf:
			simple = false
		}
	}
	return nil, false, p.errEnd()
}

func hasEscape(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// hex4 reads the four hex digits that scanString validated.
func hex4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// unquote decodes the escapes of a string that scanString validated and
// replaces invalid UTF-8 and unpaired surrogates with U+FFFD.
func unquote(raw []byte) string {
	out := make([]byte, 0, len(raw)+utf8.UTFMax)
	for i := 0; i < len(raw); {
		c := raw[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(raw[i:])
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
			i += size
			continue
		}
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			out = append(out, raw[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if len(raw)-i >= 6 && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = hex4(raw[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		}
		i += 2
	}
	return string(out)
}

func (p *jsonParser) number() (any, error) {
	start := p.pos
	i := p.pos
	if p.data[i] == '-' {
		i++
	}
	// Integer part: 0, or a non-zero digit followed by digits.
	switch {
	case i >= len(p.data):
		return nil, p.errEnd()
	case p.data[i] == '0':
		i++
	case p.data[i] >= '1' && p.data[i] <= '9':
		for i < len(p.data) && isDigit(p.data[i]) {
			i++
		}
	default:
		p.pos = i
		return nil, p.errorf("invalid number")
	}
	float := false
	if i < len(p.data) && p.data[i] == '.' {
		float = true
		i++
		if i >= len(p.data) || !isDigit(p.data[i]) {
			p.pos = i
			return nil, p.errorf("invalid number: digit expected after decimal point")
		}
		for i < len(p.data) && isDigit(p.data[i]) {
			i++
		}
	}
	exp := false
	if i < len(p.data) && (p.data[i] == 'e' || p.data[i] == 'E') {
		exp = true
		i++
		if i < len(p.data) && (p.data[i] == '+' || p.data[i] == '-') {
			i++
		}
		if i >= len(p.data) || !isDigit(p.data[i]) {
			p.pos = i
			return nil, p.errorf("invalid number: digit expected in exponent")
		}
		for i < len(p.data) && isDigit(p.data[i]) {
			i++
		}
	}
	p.pos = i
	lit := p.data[start:i]

	if !float && !exp {
		// Up to 18 digits cannot overflow an int64.
		digits := lit
		neg := digits[0] == '-'
		if neg {
			digits = digits[1:]
		}
		if len(digits) <= 18 {
			var n int64
			for _, d := range digits {
				n = n*10 + int64(d-'0')
			}
			if neg {
				n = -n
			}
			return n, nil
		}
	}
	s := string(lit)
	if !float {
		// An exponent without a decimal point still counts as an integer
		// literal for the int64 attempt, which then fails, as in
		// util/json.
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, p.errorf("number %s out of range", s)
	}
	return f, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
