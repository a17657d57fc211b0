package restore

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestPhaseOrder(t *testing.T) {
	// Each kind must be restored strictly after the one before it.
	order := []schema.GroupKind{
		{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"},
		{Kind: "Namespace"},
		{Group: "storage.k8s.io", Kind: "StorageClass"},
		{Kind: "ServiceAccount"},
		{Kind: "Secret"},
		{Kind: "PersistentVolumeClaim"},
		{Kind: "Service"},
		{Group: "apps", Kind: "Deployment"},
		{Group: "networking.k8s.io", Kind: "Ingress"},
		{Group: "example.com", Kind: "Widget"},
		{Group: "apiregistration.k8s.io", Kind: "APIService"},
		{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"},
	}
	for i := 1; i < len(order); i++ {
		if a, b := PhaseOf(order[i-1]), PhaseOf(order[i]); a >= b {
			t.Errorf("%v (phase %d %s) is not before %v (phase %d %s)", order[i-1], a, a, order[i], b, b)
		}
	}
	same := [][2]schema.GroupKind{
		{{Kind: "Service"}, {Kind: "Endpoints"}},
		{{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}, {Kind: "LimitRange"}},
		{{Kind: "PersistentVolume"}, {Kind: "PersistentVolumeClaim"}},
		{{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute"}, {Group: "networking.k8s.io", Kind: "Ingress"}},
	}
	for _, p := range same {
		if PhaseOf(p[0]) != PhaseOf(p[1]) {
			t.Errorf("%v and %v should share a phase", p[0], p[1])
		}
	}
}

func TestKindFilter(t *testing.T) {
	f := kindFilter([]string{"configmap", "Deployment.apps"})
	for gk, want := range map[schema.GroupKind]bool{
		{Kind: "ConfigMap"}:                 true,
		{Group: "apps", Kind: "Deployment"}: true,
		{Kind: "Secret"}:                    false,
		{Group: "x.io", Kind: "Deployment"}: false,
	} {
		if got := f(gk); got != want {
			t.Errorf("%v: got %v, want %v", gk, got, want)
		}
	}
}
