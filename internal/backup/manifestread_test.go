package backup

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

func strictManifest(t *testing.T, raw []byte) (*Manifest, error) {
	t.Helper()
	var m Manifest
	if err := yaml.UnmarshalStrict(raw, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// TestDecodeManifestAsStrict: what the writer writes reads back through the
// quick path, equal to the strict YAML parser's reading, tricky names included.
func TestDecodeManifestAsStrict(t *testing.T) {
	m := &Manifest{
		Format: FormatVersion, Tool: "shipshape v1", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Server: &Server{Host: "https://h:6443", Version: "v1.37.0"}, Partial: true,
		Gaps:       []Gap{{Source: "x.example/things", Reason: "forbidden"}},
		Recipients: []string{"age1xyz"}, Counts: map[string]int{"core/ConfigMap": 3}, Skipped: map[string]int{"duplicate": 1},
		Files: map[string]string{},
	}
	names := []string{
		"inventory.yaml", "RECREATE.md", HMACKeyFile,
		"namespaces/shop/core/ConfigMap/app.yaml",
		"namespaces/shop/core/Secret/db.data.age",
		"cluster/example.com/Widget/with space.yaml",
		"cluster/example.com/Widget/colon:name.yaml",
		"cluster/example.com/Widget/quote\"name.yaml",
		"cluster/example.com/Widget/ünïcode.yaml",
		"cluster/example.com/Widget/#hash.yaml",
		"helm/shop/web/values.yaml.age",
	}
	for i, n := range names {
		m.Files[n] = fmt.Sprintf("%064x", i*7919) // some all digits: written quoted
	}
	m.Files["cluster/core/Namespace/abc.yaml"] = strings.Repeat("ab", 32)
	raw, err := marshalJSONValue(m)
	if err != nil {
		t.Fatal(err)
	}
	want, err := strictManifest(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decodeManifestQuick(raw); !ok {
		t.Fatalf("the writer's layout did not take the quick path:\n%s", raw)
	}
	got, err := decodeManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decodeManifest differs from the strict parser (-strict +quick):\n%s", diff)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("manifest did not round-trip (-wrote +read):\n%s", diff)
	}
}

// TestDecodeManifestFallsBack: anything not laid out as the writer does is
// read, or refused, exactly as the strict parser does.
func TestDecodeManifestFallsBack(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for _, tc := range []struct{ name, yaml string }{
		{"comment", "format: \"" + FormatVersion + "\"\nfiles:\n  a/b.yaml: " + sum + " # note\n"},
		{"duplicate", "format: \"" + FormatVersion + "\"\nfiles:\n  a/b.yaml: " + sum + "\n  a/b.yaml: " + sum + "\n"},
		{"flow", "format: \"" + FormatVersion + "\"\nfiles: {a/b.yaml: " + sum + "}\n"},
		{"four-space", "format: \"" + FormatVersion + "\"\nfiles:\n    a/b.yaml: " + sum + "\n"},
		{"unknown-field", "format: \"" + FormatVersion + "\"\nbogus: 1\nfiles:\n  a/b.yaml: " + sum + "\n"},
		{"short-sum", "format: \"" + FormatVersion + "\"\nfiles:\n  a/b.yaml: abc\n"},
		{"bool-name", "format: \"" + FormatVersion + "\"\nfiles:\n  true: " + sum + "\n"},
		{"blank-line", "format: \"" + FormatVersion + "\"\nfiles:\n  a/b.yaml: " + sum + "\n\n  c/d.yaml: " + sum + "\n"},
		{"two-files-keys", "files:\n  a/b.yaml: " + sum + "\nformat: \"" + FormatVersion + "\"\nfiles:\n  c/d.yaml: " + sum + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := []byte(tc.yaml)
			if _, ok := decodeManifestQuick(raw); ok {
				t.Errorf("took the quick path")
			}
			want, werr := strictManifest(t, raw)
			got, gerr := decodeManifest(raw)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("error %v, strict parser's %v", gerr, werr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-strict +got):\n%s", diff)
			}
		})
	}
}

// TestMarshalManifest: the manifest's shortcut writes what the generic path writes.
func TestMarshalManifest(t *testing.T) {
	for _, m := range []*Manifest{
		{Format: FormatVersion, Counts: map[string]int{}},
		{Format: FormatVersion, Tool: "shipshape v1", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Partial: true,
			Gaps: []Gap{{Source: "s", Reason: "r"}}, Counts: map[string]int{"core/Secret": 2}, Skipped: map[string]int{"duplicate": 1},
			Files: map[string]string{"a/b.yaml": strings.Repeat("0", 64), "true": strings.Repeat("ab", 32)}},
	} {
		want, err := marshalJSONValue(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalManifest(m)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("marshalManifest:\n%s\nwant:\n%s", got, want)
		}
	}
}

// marshalJSONValue is the generic path marshalManifest shortcuts: a struct
// with JSON tags written as YAML through its JSON form, with marshalYAML.
func marshalJSONValue(v any) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, err
	}
	return marshalYAML(m)
}
