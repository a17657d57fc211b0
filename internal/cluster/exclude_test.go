package cluster

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestSnapshotExclude(t *testing.T) {
	f := newFakeAPI(t, &fakeAPI{resources: []fakeResource{
		configMapResource(configMaps("ns", 1)...),
		secretResource(),
	}})
	opts := SnapshotOptions{Exclude: []schema.GroupResource{{Resource: "secrets"}}}
	s, err := snapshotWith(context.Background(), f.target("ns"), opts, fastRetry())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if diff := cmp.Diff(slices.Concat(wantIDs("v1", "ConfigMap", "ns", "cm-000")), ids(s)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if got := len(f.lists("/api/v1/namespaces/ns/secrets")); got != 0 {
		t.Errorf("secrets were listed %d times though excluded", got)
	}
	if len(s.Resources) != 2 {
		t.Errorf("Resources = %v, want both discovered", s.Resources)
	}
}
