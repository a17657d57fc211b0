package backup

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/drift"
)

func ownedItem(path, apiVersion, kind, ns, name, owners string) Item {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
	u.SetNamespace(ns)
	u.SetName(name)
	if owners != "" {
		u.SetAnnotations(map[string]string{drift.OwnersAnnotation: owners})
	}
	return Item{Path: path, Object: u}
}

// TestRecordedOwners: owners present in the backup pass, in the
// dependent's namespace or cluster-scoped; an owner of another group, name
// or namespace is a note; an annotation that does not decode is a problem.
func TestRecordedOwners(t *testing.T) {
	items := []Item{
		ownedItem("w.yaml", "example.com/v1", "Widget", "shop", "w1", ""),
		ownedItem("n.yaml", "example.com/v2", "Node", "", "n1", ""),
		ownedItem("other.yaml", "example.com/v1", "Widget", "other", "w2", ""),
		// Owned by the Widget in its own namespace, of another version: fine.
		ownedItem("a.yaml", "v1", "ConfigMap", "shop", "a", `[{"apiVersion":"example.com/v2","kind":"Widget","name":"w1"}]`),
		// Cluster-scoped owner: fine.
		ownedItem("b.yaml", "v1", "ConfigMap", "shop", "b", `[{"apiVersion":"example.com/v1","kind":"Node","name":"n1"}]`),
		// w2 lives in another namespace; a Widget of another group; a missing name.
		ownedItem("c.yaml", "v1", "ConfigMap", "shop", "c", `[{"apiVersion":"example.com/v1","kind":"Widget","name":"w2"},{"apiVersion":"other.io/v1","kind":"Widget","name":"w1"},{"apiVersion":"example.com/v1","kind":"Widget","name":"gone","controller":true}]`),
		ownedItem("d.yaml", "v1", "ConfigMap", "shop", "d", `{not json`),
	}
	problems, notes := recordedOwners(items)
	wantNotes := []string{
		"c.yaml: owner Widget.example.com w2 is not in the backup: unless the target has it, restore leaves the object without that owner reference",
		"c.yaml: owner Widget.other.io w1 is not in the backup: unless the target has it, restore leaves the object without that owner reference",
		"c.yaml: owner Widget.example.com gone is not in the backup: unless the target has it, restore leaves the object without that owner reference",
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	if len(problems) != 1 || problems[0].Path != "d.yaml" || !strings.Contains(problems[0].Reason, drift.OwnersAnnotation) {
		t.Errorf("problems = %v", problems)
	}
}
