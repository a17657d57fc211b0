package backup

import (
	"bytes"
	"encoding/json"
	"strings"

	"sigs.k8s.io/yaml"
)

// decodeManifest reads manifest.yaml strictly. The files section (one line
// per file of the backup, 60,000 lines for a large cluster) is most of the
// text and most of the time a generic YAML parser spends, so lines laid out
// as the writer lays them out ("  path: sha256", path plain or
// double-quoted, sum plain or double-quoted) are read directly; the rest of
// the manifest, and any manifest whose files section holds anything else (a
// hand edit, a duplicate, another layout), goes through the strict YAML
// parser, whose result and errors are then those of the whole file.
func decodeManifest(raw []byte) (*Manifest, error) {
	if m, ok := decodeManifestQuick(raw); ok {
		return m, nil
	}
	var m Manifest
	if err := yaml.UnmarshalStrict(raw, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func decodeManifestQuick(raw []byte) (*Manifest, bool) {
	const head = "files:\n"
	start := -1
	if bytes.HasPrefix(raw, []byte(head)) {
		start = 0
	} else if i := bytes.Index(raw, []byte("\n"+head)); i >= 0 {
		start = i + 1
	}
	if start < 0 || bytes.Contains(raw[start+len(head):], []byte("\n"+head)) {
		return nil, false
	}
	body := raw[start+len(head):]
	end := len(body)
	files := map[string]string{}
	for off := 0; off < len(body); {
		nl := bytes.IndexByte(body[off:], '\n')
		if nl < 0 {
			return nil, false // the writer ends every line
		}
		line := body[off : off+nl]
		if !bytes.HasPrefix(line, []byte("  ")) {
			end = off
			break
		}
		k, v, ok := fileLine(line[2:])
		if !ok {
			return nil, false
		}
		if _, dup := files[k]; dup {
			return nil, false
		}
		files[k] = v
		off += nl + 1
	}
	if len(files) == 0 {
		return nil, false
	}
	rest := make([]byte, 0, start+len(body)-end)
	rest = append(rest, raw[:start]...)
	rest = append(rest, body[end:]...)
	var m Manifest
	if yaml.UnmarshalStrict(rest, &m) != nil || m.Files != nil {
		return nil, false
	}
	m.Files = files
	return &m, true
}

// fileLine reads `path: sum` as the writer lays it out.
func fileLine(line []byte) (string, string, bool) {
	var key string
	var rest []byte
	if len(line) > 0 && line[0] == '"' {
		j := closingQuote(line)
		if j < 0 || json.Unmarshal(line[:j+1], &key) != nil {
			return "", "", false
		}
		rest = line[j+1:]
	} else {
		// A plain key never holds ": " (plainOK refuses it), so the first
		// one ends it; and the writer writes a key plain only when plainOK
		// says YAML reads it back as the same string.
		i := bytes.Index(line, []byte(": "))
		if i < 0 {
			return "", "", false
		}
		key, rest = string(line[:i]), line[i:]
		if !plainOK(key) {
			return "", "", false
		}
	}
	if !bytes.HasPrefix(rest, []byte(": ")) {
		return "", "", false
	}
	v := rest[2:]
	if len(v) == 66 && v[0] == '"' && v[65] == '"' {
		v = v[1:65]
	}
	if len(v) != 64 || strings.Trim(string(v), "0123456789abcdef") != "" {
		return "", "", false
	}
	return key, string(v), true
}

// closingQuote is the index of the quote that ends the double-quoted
// scalar line starts with, or -1.
func closingQuote(line []byte) int {
	for i := 1; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}
