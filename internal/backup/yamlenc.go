package backup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// marshalYAML writes a JSON-like value (what unstructured objects hold:
// maps with string keys, slices, strings, bools, int64, float64, nil) as
// block YAML with sorted keys. It is what a backup spends most of its time
// on, so it is written here rather than going through JSON and a generic
// YAML encoder (sigs.k8s.io/yaml, about ten times slower); strings that are
// not certainly plain are written double-quoted (JSON escapes are valid
// YAML), and multi-line strings as literal blocks when that is exact.
// Tests check that every document of the shared corpus reads back equal.
func marshalYAML(v any) ([]byte, error) {
	var b bytes.Buffer
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}\n")
			return b.Bytes(), nil
		}
		if err := emitMap(&b, x, 0, false); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("marshal YAML: top level must be a map, got %T", v)
	}
	return b.Bytes(), nil
}

func indent(b *bytes.Buffer, n int) {
	for range n {
		b.WriteByte(' ')
	}
}

func emitMap(b *bytes.Buffer, m map[string]any, ind int, inline bool) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 || !inline {
			indent(b, ind)
		}
		writeString(b, k)
		b.WriteByte(':')
		if err := emitValue(b, m[k], ind, true); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

func emitSeq(b *bytes.Buffer, s []any, ind int, inline bool) error {
	for i, v := range s {
		if i > 0 || !inline {
			indent(b, ind)
		}
		b.WriteByte('-')
		if err := emitValue(b, v, ind, false); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
	}
	return nil
}

// emitValue writes what follows "key:" (inMap) or "-": the value and its newline.
func emitValue(b *bytes.Buffer, v any, ind int, inMap bool) error {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			b.WriteString(" {}\n")
			return nil
		}
		if inMap {
			b.WriteByte('\n')
			return emitMap(b, x, ind+2, false)
		}
		b.WriteByte(' ')
		return emitMap(b, x, ind+2, true)
	case []any:
		if len(x) == 0 {
			b.WriteString(" []\n")
			return nil
		}
		if inMap {
			b.WriteByte('\n')
			return emitSeq(b, x, ind, false)
		}
		b.WriteByte(' ')
		return emitSeq(b, x, ind+2, true)
	case string:
		if literalOK(x) {
			if strings.HasSuffix(x, "\n") {
				b.WriteString(" |\n")
			} else {
				b.WriteString(" |-\n")
			}
			for _, line := range strings.Split(strings.TrimSuffix(x, "\n"), "\n") {
				if line != "" {
					indent(b, ind+2)
					b.WriteString(line)
				}
				b.WriteByte('\n')
			}
			return nil
		}
		b.WriteByte(' ')
		writeString(b, x)
		b.WriteByte('\n')
		return nil
	}
	b.WriteByte(' ')
	if err := writeScalar(b, v); err != nil {
		return err
	}
	b.WriteByte('\n')
	return nil
}

func writeScalar(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("cannot write %v", x)
		}
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			// JSON has one number type: 3.0 read from JSON is 3.
			b.WriteString(strconv.FormatInt(int64(x), 10))
			return nil
		}
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case json.Number:
		b.WriteString(x.String())
	default:
		return fmt.Errorf("cannot write a %T", v)
	}
	return nil
}

// writeString writes s plain when that reads back as the same string, else double-quoted.
func writeString(b *bytes.Buffer, s string) {
	if plainOK(s) {
		b.WriteString(s)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

var reserved = map[string]bool{
	"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true, "y": true, "n": true,
	"null": true, "~": true, "<<": true, "=": true,
}

// plainOK reports whether s can be written as a plain scalar and read back
// as the same string by YAML 1.1 and 1.2 readers. It is deliberately strict.
func plainOK(s string) bool {
	if s == "" || len(s) <= 5 && reserved[strings.ToLower(s)] { // the longest reserved word is 5 bytes
		return false
	}
	c := s[0]
	switch {
	case c >= '0' && c <= '9', c == '.' || c == '+' || c == '-':
		return false // numbers, .inf, .5, -1, "- x"
	case strings.IndexByte("?:,[]{}#&*!|>'\"%@` <=", c) >= 0:
		return false
	}
	if s[len(s)-1] == ' ' || s[len(s)-1] == ':' {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch < 0x20 || ch >= 0x7f {
			return false // control characters and non-ASCII are quoted
		}
		if ch == ':' && i+1 < len(s) && s[i+1] == ' ' || ch == '#' && s[i-1] == ' ' {
			return false
		}
	}
	return true
}

// literalOK reports whether s can be written as a literal block (|, |-)
// and read back exactly.
func literalOK(s string) bool {
	if !strings.Contains(s, "\n") || !utf8.ValidString(s) || strings.HasSuffix(s, "\n\n") || s == "\n" {
		return false
	}
	if s[0] == ' ' || s[0] == '\n' {
		return false
	}
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line != "" && strings.TrimLeft(line, " ") == "" {
			return false // a line of spaces only
		}
		if strings.HasSuffix(line, " ") {
			return false
		}
		for _, r := range line {
			if !unicode.IsPrint(r) || r == '\uFEFF' {
				return false
			}
		}
	}
	return true
}
