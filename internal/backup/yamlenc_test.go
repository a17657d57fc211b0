package backup

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// roundTrip writes v with marshalYAML and reads it back.
func roundTrip(t *testing.T, where string, v map[string]any) {
	t.Helper()
	out, err := marshalYAML(v)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	var back map[string]any
	if err := yaml.Unmarshal(out, &back); err != nil {
		t.Errorf("%s: read back: %v\n%s", where, err, out)
		return
	}
	// Read the way the reader reads (numbers as float64) before comparing.
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, back); diff != "" {
		t.Errorf("%s: read back differs (-wrote +read):\n%s\n%s", where, diff, out)
	}
}

func TestMarshalYAMLTricky(t *testing.T) {
	strs := []string{"", " ", "a b", "yes", "No", "ON", "y", "null", "~", "<<", "=", "0", "0123", "1e3", ".5", "-1", "+1", ".inf", "-.inf",
		".nan", "0x1F", "0o17", "1_000", "12:30", "2001-12-14", "a: b", "a:b", "a #b", "a#b", "#x", "- x", "-", "? x", "@x", "`x",
		"x:", "x ", " x", "\tx", "a\tb", "é", "日本", "line1\nline2", "line1\nline2\n", "line1\n\nline3\n", "\n", "\nx", "x\n\n",
		"  indented\nx", "x\n  indented\n", "x \ny", "x\r\ny", "a\u2028b", "\x00\x01", "{a}", "[a]", "!tag", "&a", "*a", "|", ">", "%x",
		"'q'", "\"q\"", "true ", "1.0", "1.", "0.", "Infinity", "NaN", "https://example.com/a?b=c#d", "k8s.io/x-y_z.w", "sha256:abc", "\ufeffbom"}
	m := map[string]any{}
	for i, s := range strs {
		m["k"+string(rune('a'+i%26))+strings.Repeat("x", i/26)] = s
		m[s+"_key"] = int64(i)
	}
	m["nested"] = map[string]any{"list": []any{"a", int64(1), 1.5, 2.0, true, nil, map[string]any{}, []any{}, []any{"x", []any{"y"}},
		map[string]any{"b": "c", "a": []any{map[string]any{"z": "multi\nline\n"}}}}, "empty": map[string]any{}}
	for _, s := range strs {
		m["key:"+s] = s
	}
	roundTrip(t, "tricky", m)
}

// TestMarshalYAMLCorpus writes every document of the shared corpus and reads it back.
func TestMarshalYAMLCorpus(t *testing.T) {
	root := "../../../shared/corpus"
	if _, err := os.Stat(root); err != nil {
		t.Skipf("corpus not present: %v", err)
	}
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".json")) {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			var m map[string]any
			if yaml.Unmarshal(doc, &m) != nil || len(m) == 0 {
				continue
			}
			n++
			roundTrip(t, p+"#"+string(rune('0'+i%10)), m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Errorf("only %d corpus documents read", n)
	}
	t.Logf("%d documents", n)
}

// TestReservedWordsShort: plainOK looks words up only up to 5 bytes long.
func TestReservedWordsShort(t *testing.T) {
	for w := range reserved {
		if len(w) > 5 {
			t.Errorf("reserved word %q is longer than plainOK's lookup bound", w)
		}
		for _, v := range []string{w, strings.ToUpper(w)} {
			if plainOK(v) {
				t.Errorf("plainOK(%q) = true, want it quoted", v)
			}
		}
	}
}
