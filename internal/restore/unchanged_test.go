package restore

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(m map[string]any) *unstructured.Unstructured { return &unstructured.Unstructured{Object: m} }

// liveDeployment is a live object as a LIST returns it: defaults, status,
// server metadata and the fields shipshape's apply owns.
func liveDeployment(owned string) *unstructured.Unstructured {
	l := obj(map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{
			"name": "web", "namespace": "shop", "uid": "u1", "resourceVersion": "7", "generation": int64(2),
			"labels": map[string]any{"app": "web", "team": "a"},
		},
		"spec": map[string]any{
			"replicas": int64(2),
			"template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"name": "web", "image": "web:1", "terminationMessagePath": "/dev/termination-log",
					"ports": []any{map[string]any{"containerPort": int64(80), "protocol": "TCP"}}}},
				"restartPolicy": "Always",
			}},
		},
		"status": map[string]any{"replicas": int64(2)},
	})
	if owned != "" {
		l.SetManagedFields([]metav1.ManagedFieldsEntry{
			{Manager: "kube-controller-manager", Operation: "Update", Subresource: "status", FieldsV1: metav1.NewFieldsV1(`{"f:status":{"f:replicas":{}}}`)},
			{Manager: "shipshape", Operation: "Apply", FieldsV1: metav1.NewFieldsV1(owned)},
		})
	}
	return l
}

func desiredDeployment() map[string]any {
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "shop", "labels": map[string]any{"app": "web"}},
		"spec": map[string]any{
			"replicas": 2.0, // a float from some decoder: equal by value
			"template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"name": "web", "image": "web:1",
					"ports": []any{map[string]any{"containerPort": int64(80), "protocol": "TCP"}}}},
			}},
		},
	}
}

const ownedAll = `{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}`

func TestProvablyUnchanged(t *testing.T) {
	for _, tc := range []struct {
		name    string
		desired func(map[string]any)
		owned   string
		want    bool
	}{
		{"same, fields owned", nil, ownedAll, true},
		{"same, made by someone else", nil, "", true},
		{"value differs", func(d map[string]any) {
			d["spec"].(map[string]any)["replicas"] = int64(3)
		}, ownedAll, false},
		{"type differs", func(d map[string]any) {
			d["spec"].(map[string]any)["replicas"] = "2"
		}, ownedAll, false},
		{"new label", func(d map[string]any) {
			d["metadata"].(map[string]any)["labels"].(map[string]any)["tier"] = "front"
		}, ownedAll, false},
		{"list element added", func(d map[string]any) {
			spec := d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
			spec["containers"] = append(spec["containers"].([]any), map[string]any{"name": "side", "image": "side:1"})
		}, ownedAll, false},
		{"null removes a field", func(d map[string]any) {
			d["spec"].(map[string]any)["replicas"] = nil
		}, ownedAll, false},
		{"owned label dropped from the tree", func(d map[string]any) {
			delete(d["metadata"].(map[string]any), "labels")
		}, ownedAll, false},
		{"owned list element no longer in the tree", nil,
			`{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"gone\"}":{".":{}}}}}}}`, false},
		{"defaulted list key not in the tree", func(d map[string]any) {
			c := d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
			delete(c["ports"].([]any)[0].(map[string]any), "protocol")
		}, ownedAll, false},
		{"unknown key kind", nil, `{"f:spec":{"z:odd":{}}}`, false},
		{"index within the list", nil, `{"f:spec":{"f:template":{"f:spec":{"f:containers":{"i:0":{"f:image":{}}}}}}}`, true},
		{"index past the list", nil, `{"f:spec":{"f:template":{"f:spec":{"f:containers":{"i:1":{}}}}}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := desiredDeployment()
			if tc.desired != nil {
				tc.desired(d)
			}
			live := liveDeployment(tc.owned)
			if got := provablyUnchanged(obj(d), live); got != tc.want {
				t.Errorf("provablyUnchanged = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSetValuesCovered(t *testing.T) {
	d := map[string]any{"spec": map[string]any{"finalizers": []any{"kubernetes", "example.org/x"}}}
	for owned, want := range map[string]bool{
		`{"f:spec":{"f:finalizers":{".":{},"v:\"kubernetes\"":{}}}}`:       true,
		`{"f:spec":{"f:finalizers":{"v:\"example.org/gone\"":{}}}}`:        false,
		`{"f:spec":{"f:finalizers":{"v:\"kubernetes\"":{},"v:\"x\"":{}}}}`: false,
	} {
		var fields map[string]any
		if err := json.Unmarshal([]byte(owned), &fields); err != nil {
			t.Fatal(err)
		}
		if got := covered(fields, d); got != want {
			t.Errorf("%s: covered = %v, want %v", owned, got, want)
		}
	}
}
