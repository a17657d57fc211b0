package backup

import "testing"

func TestTreeDamaged(t *testing.T) {
	tr := &Tree{Problems: []Problem{
		{Path: "namespaces/shop/core/Secret/db.data.age", Reason: "cannot decrypt"},
		{Path: "namespaces/shop/core/ConfigMap/bad.yaml", Reason: "content differs"},
	}}
	for path, want := range map[string]bool{
		"namespaces/shop/core/Secret/db.yaml":     true,
		"namespaces/shop/core/ConfigMap/bad.yaml": true,
		"namespaces/shop/core/ConfigMap/ok.yaml":  false,
		"namespaces/shop/core/Secret/other.yaml":  false,
	} {
		if got := tr.Damaged(Item{Path: path}); got != want {
			t.Errorf("Damaged(%s) = %v, want %v", path, got, want)
		}
	}
}
