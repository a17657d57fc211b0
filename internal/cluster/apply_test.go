package cluster

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestCRDConditions(t *testing.T) {
	crd := func(conds ...map[string]any) *unstructured.Unstructured {
		var cs []any
		for _, c := range conds {
			cs = append(cs, c)
		}
		return &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"conditions": cs}}}
	}
	cond := func(typ, status, msg string) map[string]any {
		return map[string]any{"type": typ, "status": status, "message": msg}
	}
	for _, tc := range []struct {
		name                  string
		obj                   *unstructured.Unstructured
		established, accepted bool
		reason                string
	}{
		{"new", crd(), false, false, ""},
		{"names accepted only", crd(cond("NamesAccepted", "True", "")), false, true, ""},
		{"ready", crd(cond("NamesAccepted", "True", ""), cond("Established", "True", "")), true, true, ""},
		{"name clash", crd(cond("NamesAccepted", "False", `"widgets" is already in use`), cond("Established", "False", "")), false, false, `"widgets" is already in use`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, a, r := crdConditions(tc.obj)
			if e != tc.established || a != tc.accepted || r != tc.reason {
				t.Errorf("got %v %v %q, want %v %v %q", e, a, r, tc.established, tc.accepted, tc.reason)
			}
		})
	}
}
