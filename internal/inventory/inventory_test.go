package inventory

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func obj(apiVersion, kind, ns, name string, extra map[string]any) snapshot.Object {
	m := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name}}
	if ns != "" {
		m["metadata"].(map[string]any)["namespace"] = ns
	}
	for k, v := range extra {
		m[k] = v
	}
	return snapshot.Object{Unstructured: &unstructured.Unstructured{Object: m}, Origin: snapshot.Origin{Item: -1}}
}

func messages(t *testing.T, s *snapshot.Snapshot, id string) []string {
	t.Helper()
	for _, c := range Checks() {
		if c.ID != id {
			continue
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		fs, err := c.Run(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			if f.Severity != finding.Info {
				t.Errorf("%s reported %s; inventory reports info only", id, f.Severity)
			}
			out = append(out, f.Message)
		}
		return out
	}
	t.Fatalf("no check %s", id)
	return nil
}

func TestInventoryLive(t *testing.T) {
	node := obj("v1", "Node", "", "n1", map[string]any{"status": map[string]any{
		"conditions": []any{map[string]any{"type": "Ready", "status": "True"}},
		"nodeInfo":   map[string]any{"kubeletVersion": "v1.37.2", "operatingSystem": "linux", "architecture": "amd64"},
		"capacity":   map[string]any{"cpu": "4", "memory": "16Gi"},
	}})
	s := &snapshot.Snapshot{
		Source: snapshot.SourceCluster,
		Server: &snapshot.Server{Host: "https://127.0.0.1:6443", GitVersion: "v1.37.2", Platform: "linux/amd64", Context: "prod", Namespace: "shop"},
		Objects: []snapshot.Object{
			node,
			obj("v1", "Namespace", "", "shop", nil),
			obj("v1", "Namespace", "", "empty", nil),
			obj("apps/v1", "Deployment", "shop", "web", nil),
			obj("v1", "ConfigMap", "shop", "cfg", nil),
			obj("v1", "ConfigMap", "shop", "cfg2", nil),
		},
	}
	for _, tc := range []struct {
		id   string
		want []string
	}{
		{ServerCheck, []string{"Kubernetes v1.37.2 (linux/amd64) at https://127.0.0.1:6443, context prod; read namespace shop only (-A reads all)"}},
		{NodesCheck, []string{"node n1: Ready, kubelet v1.37.2, linux/amd64, cpu 4, memory 16Gi"}},
		{NamespacesCheck, []string{"namespace empty: 0 objects", "namespace shop: 3 objects"}},
		{ObjectsCheck, []string{"ConfigMap (v1): 2", "Deployment (apps/v1): 1", "Namespace (v1): 2", "Node (v1): 1"}},
	} {
		t.Run(tc.id, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, messages(t, s, tc.id)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestInventoryFiles(t *testing.T) {
	s := &snapshot.Snapshot{
		Source: snapshot.SourceFiles,
		Objects: []snapshot.Object{
			obj("apps/v1", "Deployment", "", "web", nil),
			obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "reader", nil),
			obj("v1", "Service", "shop", "web", nil),
		},
	}
	if got := messages(t, s, ServerCheck); len(got) != 0 {
		t.Errorf("server check on files reported %v", got)
	}
	want := []string{"namespace (unset): 1 object", "namespace shop: 1 object"}
	if diff := cmp.Diff(want, messages(t, s, NamespacesCheck)); diff != "" {
		t.Errorf("namespaces (-want +got)\n%s", diff)
	}
	if got := messages(t, s, NodesCheck); len(got) != 0 {
		t.Errorf("nodes check on files without nodes reported %v", got)
	}
}

func TestNoNodesIsReported(t *testing.T) {
	s := &snapshot.Snapshot{Source: snapshot.SourceCluster, Resources: []snapshot.Resource{{Version: "v1", Resource: "nodes", Kind: "Node"}}}
	got := messages(t, s, NodesCheck)
	if len(got) != 1 {
		t.Fatalf("got %v, want one finding saying the cluster has no nodes", got)
	}
}
