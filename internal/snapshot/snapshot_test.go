package snapshot

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func object(apiVersion, kind, ns, name string, origin Origin) Object {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
	u.SetNamespace(ns)
	u.SetName(name)
	return Object{Unstructured: u, Origin: origin}
}

func TestSortIsDeterministic(t *testing.T) {
	file := func(p string, doc, item int) Origin {
		return Origin{Path: p, Document: doc, Item: item, Line: doc*10 + 1}
	}
	objs := []Object{
		object("v1", "Pod", "b", "x", Origin{}),
		object("apps/v1", "Deployment", "a", "web", Origin{}),
		object("v1", "ConfigMap", "a", "z", Origin{}),
		object("v1", "ConfigMap", "a", "a", Origin{}),
		object("v1", "ConfigMap", "", "in-file", file("b.yaml", 0, -1)),
		object("v1", "ConfigMap", "", "second-doc", file("a.yaml", 1, -1)),
		object("v1", "ConfigMap", "", "first-doc", file("a.yaml", 0, -1)),
		object("v1", "ConfigMap", "", "item-1", file("a.yaml", 2, 1)),
		object("v1", "ConfigMap", "", "item-0", file("a.yaml", 2, 0)),
	}
	want := []string{"a", "z", "x", "web", "first-doc", "second-doc", "item-0", "item-1", "in-file"}
	for rot := range objs {
		s := &Snapshot{Objects: append(append([]Object(nil), objs[rot:]...), objs[:rot]...)}
		s.Sort()
		var got []string
		for _, o := range s.Objects {
			got = append(got, o.GetName())
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("rotation %d (-want +got)\n%s", rot, diff)
		}
	}
}

func TestPartial(t *testing.T) {
	if (&Snapshot{}).Partial() {
		t.Error("empty snapshot is partial")
	}
	if !(&Snapshot{Gaps: []Gap{{Source: "secrets", Reason: "forbidden"}}}).Partial() {
		t.Error("snapshot with a gap is not partial")
	}
	if !(&Snapshot{Invalid: []Invalid{{Reason: "bad"}}}).Partial() {
		t.Error("snapshot with an invalid document is not partial")
	}
}

func BenchmarkSort(b *testing.B) {
	objs := make([]Object, 25000)
	for i := range objs {
		objs[i] = object("v1", "ConfigMap", "ns", string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676%26)), Origin{})
	}
	for b.Loop() {
		s := &Snapshot{Objects: append([]Object(nil), objs...)}
		s.Sort()
	}
}
