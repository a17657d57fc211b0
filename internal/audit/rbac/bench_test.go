package rbac

import (
	"context"
	"fmt"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func runAll(b *testing.B, s *snapshot.Snapshot) {
	b.Helper()
	checks := Checks()
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range checks {
			if _, err := c.Run(context.Background(), s); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(s.Objects))*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkChecksCorpus runs every RBAC check over the real-world corpus
// (read once, outside the timing).
func BenchmarkChecksCorpus(b *testing.B) {
	const dir = "../../../../shared/corpus"
	if _, err := os.Stat(dir); err != nil {
		b.Skip("corpus not present")
	}
	s, err := manifest.Read(context.Background(), []string{dir}, manifest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	runAll(b, s)
}

// generated returns n objects: a tenth RBAC objects (roles with bindings,
// some with wildcards), the rest ConfigMaps that RBAC checks skip.
func generated(n int) *snapshot.Snapshot {
	s := &snapshot.Snapshot{Source: snapshot.SourceFiles}
	for i := range n {
		ns := fmt.Sprintf("ns-%d", i%100)
		var m map[string]any
		switch i % 20 {
		case 0:
			m = map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": map[string]any{"name": fmt.Sprint("r", i), "namespace": ns},
				"rules": []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"pods", "pods/exec"}, "verbs": []any{"get", "create"}},
					map[string]any{"apiGroups": []any{"apps"}, "resources": []any{"*"}, "verbs": []any{"list"}}}}
		case 1:
			m = map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": map[string]any{"name": fmt.Sprint("b", i), "namespace": ns},
				"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": fmt.Sprint("r", i-1)},
				"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "default"}, map[string]any{"kind": "User", "name": "u"}}}
		default:
			m = map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": fmt.Sprint("c", i), "namespace": ns}, "data": map[string]any{"k": "v"}}
		}
		s.Objects = append(s.Objects, snapshot.Object{Unstructured: &unstructured.Unstructured{Object: m}, Origin: snapshot.Origin{Path: "gen.yaml", Line: i + 1, Document: i, Item: -1}})
	}
	return s
}

// BenchmarkChecksGenerated shows the checks grow linearly with the input:
// objects/s stays flat from 10,000 to 100,000 objects.
func BenchmarkChecksGenerated(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		s := generated(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) { runAll(b, s) })
	}
}
