package drift

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestOwnersRoundTrip(t *testing.T) {
	yes, no := true, false
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}}}
	if owners, ann := OwnersOf(obj); owners != nil || ann != "" {
		t.Fatalf("no references: %v, %q", owners, ann)
	}
	obj.SetOwnerReferences([]metav1.OwnerReference{
		{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "u1", Controller: &yes, BlockOwnerDeletion: &yes},
		{APIVersion: "example.com/v1", Kind: "Shop", Name: "main", UID: "u2", Controller: &no},
	})
	owners, ann := OwnersOf(obj)
	want := `[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","controller":true,"blockOwnerDeletion":true},{"apiVersion":"example.com/v1","kind":"Shop","name":"main"}]`
	if ann != want {
		t.Fatalf("annotation %s\nwant %s", ann, want)
	}
	if strings.Contains(ann, "u1") {
		t.Fatal("the annotation carries a UID")
	}
	obj.SetAnnotations(map[string]string{OwnersAnnotation: ann})
	got, err := RecordedOwners(obj)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(owners, got); diff != "" {
		t.Errorf("read back (-wrote +read):\n%s", diff)
	}
}

func TestRecordedOwnersRejects(t *testing.T) {
	for _, v := range []string{`{`, `{"kind":"X"}`, `[{"apiVersion":"v1","kind":"ConfigMap"}]`, `[{"kind":"ConfigMap","name":"a"}]`} {
		obj := &unstructured.Unstructured{Object: map[string]any{}}
		obj.SetAnnotations(map[string]string{OwnersAnnotation: v})
		if _, err := RecordedOwners(obj); err == nil || !strings.Contains(err.Error(), OwnersAnnotation) {
			t.Errorf("%s: err = %v, want an error naming the annotation", v, err)
		}
	}
}
