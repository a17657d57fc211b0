package fix

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

// TestMain stops the package's sandbox after the tests; the test wrapper
// exits with the tests' result.
func TestMain(m *testing.M) { sandboxtest.Main(m) }

// resources maps the kinds of the fixtures to their API resources.
var resources = map[string]schema.GroupVersionResource{
	"Deployment":          {Group: "apps", Version: "v1", Resource: "deployments"},
	"Service":             {Version: "v1", Resource: "services"},
	"CronJob":             {Group: "batch", Version: "v1", Resource: "cronjobs"},
	"DaemonSet":           {Group: "apps", Version: "v1", Resource: "daemonsets"},
	"PodDisruptionBudget": {Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
}

// TestFixedObjectsAccepted: the API server accepts every fixed object
// (server-side dry run: validation and admission, nothing stored), and
// returns the hardened fields.
func TestFixedObjectsAccepted(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	src, err := os.ReadFile("testdata/before.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := File("testdata/before.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	ns := "audit-fix"
	if _, err := env.Clientset(t).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(env.Config())
	if err != nil {
		t.Fatal(err)
	}
	docs := bytes.Split(res.After, []byte("\n---\n"))
	if len(docs) != 3 {
		t.Fatalf("%d documents, want 3", len(docs))
	}
	for i, doc := range docs {
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		u.SetNamespace(ns)
		gvr, ok := resources[u.GetKind()]
		if !ok {
			t.Fatalf("document %d: no resource for %s", i, u.GetKind())
		}
		got, err := dyn.Resource(gvr).Namespace(ns).Create(ctx, &u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Errorf("%s/%s rejected: %v", u.GetKind(), u.GetName(), err)
			continue
		}
		if u.GetKind() == "Deployment" {
			b, _ := yaml.Marshal(got.Object)
			for _, want := range []string{"readOnlyRootFilesystem: true", "allowPrivilegeEscalation: false", "runAsNonRoot: true", "type: RuntimeDefault", "automountServiceAccountToken: false", "- ALL"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("server's Deployment lacks %q", want)
				}
			}
		}
	}
	// The demo estate's audit workloads are valid objects too.
	estate, err := os.ReadFile("../../../examples/estate/audit-workloads.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i, doc := range bytes.Split(estate, []byte("\n---\n")) {
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatalf("estate document %d: %v", i, err)
		}
		u.SetNamespace(ns)
		if _, err := dyn.Resource(resources[u.GetKind()]).Namespace(ns).Create(ctx, &u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Errorf("estate %s/%s rejected: %v", u.GetKind(), u.GetName(), err)
		}
	}
	// Nothing was stored.
	list, err := dyn.Resource(resources["Deployment"]).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.Items); n != 0 {
		t.Errorf("dry run stored %d deployments", n)
	}
}
