package manifest

import (
	"bytes"
	"context"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: it must not panic, must
// report every invalid document with a line, and must only produce values
// unstructured objects can hold (DeepCopy panics on anything else).
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		pod + "spec:\n  containers:\n  - name: a\n    ports: [{containerPort: 80}]\n",
		service + "spec:\n  ports:\n  - port: ${PORT}\n---\n" + pod,
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  data: {a: b}\n",
		`{"apiVersion": "v1", "kind": "Secret", "data": {"a": "aGk="}}{"apiVersion": "v1"}`,
		"a: &a [1, 2]\nb: [*a, *a]\nc: {<<: {x: 1}, y: 2}\n",
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{uid}}\n  labels: {a: true}\nspec: {{x}}\n",
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  - bad\n",
		"--- |\n  text\n...\n%YAML 1.2\n---\n? [a]\n: b\n",
		aliasBomb(4),
	} {
		f.Add([]byte(seed))
	}
	d := NewDecoder(Options{AliasBudget: 1000, AliasRatio: 10})
	f.Fuzz(func(t *testing.T, data []byte) {
		objects, invalid, err := d.Decode(context.Background(), bytes.NewReader(data), "fuzz")
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		for _, inv := range invalid {
			if inv.Origin.Line < 0 || inv.Reason == "" {
				t.Errorf("invalid entry %+v: want a line >= 0 and a reason", inv)
			}
		}
		for _, o := range objects {
			if o.Origin.Line < 1 {
				t.Errorf("object %s at line %d, want >= 1", o.GetName(), o.Origin.Line)
			}
			_ = o.DeepCopy()
		}
	})
}
