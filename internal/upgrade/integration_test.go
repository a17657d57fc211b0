package upgrade_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
	"github.com/shipshape-dev/shipshape/internal/upgrade"
)

// TestMain returns after sandboxtest.Main; the testing package exits with
// the code m.Run recorded.
func TestMain(m *testing.M) { sandboxtest.Main(m) }

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func namespace(t *testing.T, cs kubernetes.Interface, prefix string) string {
	t.Helper()
	ns := prefix + "-" + rand.String(5)
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	return ns
}

// snap reads the sandbox the way the CLI does.
func snap(t *testing.T, env *sandboxtest.Env) *snapshot.Snapshot {
	t.Helper()
	target, err := cluster.ConfigFlags{Kubeconfig: env.Kubeconfig(), AllNamespaces: true}.Load()
	if err != nil {
		t.Fatal(err)
	}
	s, err := cluster.Snapshot(context.Background(), target, cluster.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runChecks(t *testing.T, s *snapshot.Snapshot, opts upgrade.Options) []finding.Finding {
	t.Helper()
	r := finding.Evaluate(context.Background(), s, upgrade.Checks(opts))
	for _, w := range r.Warnings {
		if strings.HasPrefix(w.Source, "upgrade/") {
			t.Errorf("check warning: %s: %s", w.Source, w.Message)
		}
	}
	return r.Findings
}

// TestIntegrationManagedFields writes a custom resource through a version
// its CRD marks deprecated, then updates it through the current version
// with another manager. The live object reads back at the storage version;
// only managedFields remember the deprecated writer, and it must be found.
func TestIntegrationManagedFields(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs := env.Clientset(t)
	dc, err := dynamic.NewForConfig(env.Config())
	if err != nil {
		t.Fatal(err)
	}
	ns := namespace(t, cs, "upgrade-mf")
	group := "w" + rand.String(6) + ".example.com"
	schemaAny := map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets." + group},
		"spec": map[string]any{
			"group": group, "scope": "Namespaced",
			"names": map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
			"versions": []any{
				map[string]any{"name": "v1beta1", "served": true, "storage": false, "deprecated": true,
					"deprecationWarning": group + "/v1beta1 Widget is deprecated; use v1", "schema": schemaAny},
				map[string]any{"name": "v1", "served": true, "storage": true, "schema": schemaAny},
			},
		},
	}}
	if _, err := dc.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	t.Cleanup(func() { _ = dc.Resource(crdGVR).Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{}) })

	old := dc.Resource(schema.GroupVersionResource{Group: group, Version: "v1beta1", Resource: "widgets"}).Namespace(ns)
	cur := dc.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}).Namespace(ns)
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": group + "/v1beta1", "kind": "Widget",
		"metadata": map[string]any{"name": "legacy"}, "spec": map[string]any{"size": int64(3)},
	}}
	sandboxtest.Eventually(t, time.Minute, "create widget through v1beta1", func() error {
		_, err := old.Create(ctx, w, metav1.CreateOptions{FieldManager: "legacy-operator"})
		return err
	})
	// A second writer through v1 with server-side apply, no annotation involved.
	patch := fmt.Sprintf(`{"apiVersion":%q,"kind":"Widget","metadata":{"name":"legacy"},"spec":{"color":"blue"}}`, group+"/v1")
	if _, err := cur.Patch(ctx, "legacy", "application/apply-patch+yaml", []byte(patch), metav1.PatchOptions{FieldManager: "new-operator"}); err != nil {
		t.Fatalf("apply through v1: %v", err)
	}

	s := snap(t, env)
	var live *snapshot.Object
	for i, o := range s.Objects {
		if o.GetKind() == "Widget" && o.GetNamespace() == ns {
			live = &s.Objects[i]
		}
	}
	if live == nil {
		t.Fatal("widget not in the snapshot")
	}
	if live.GetAPIVersion() != group+"/v1" {
		t.Fatalf("live object read as %s, want the v1 storage version (the test relies on managedFields)", live.GetAPIVersion())
	}

	var hits []string
	for _, f := range runChecks(t, s, upgrade.Options{}) {
		if f.Object != nil && f.Object.Namespace == ns {
			hits = append(hits, f.Check+": "+f.Message)
		}
	}
	if len(hits) != 1 || !strings.HasPrefix(hits[0], upgrade.DeprecatedCheck+": ") ||
		!strings.Contains(hits[0], `"legacy-operator"`) || !strings.Contains(hits[0], group+"/v1beta1 Widget") || strings.Contains(hits[0], "new-operator") {
		t.Errorf("want one deprecated-api finding naming legacy-operator and %s/v1beta1, got %q", group, hits)
	}
}

// TestIntegrationHelmRelease writes Helm release records with the Helm SDK's
// Secrets storage driver (the sandbox refuses removed APIs, so the release
// cannot be installed for real): revision 1 is superseded and clean,
// revision 2 is deployed and its manifest holds a policy/v1beta1
// PodDisruptionBudget, and its chart declares kubeVersion "<1.30.0-0".
func TestIntegrationHelmRelease(t *testing.T) {
	env := sandboxtest.Get(t)
	cs := env.Clientset(t)
	ns := namespace(t, cs, "upgrade-helm")
	store := driver.NewSecrets(cs.CoreV1().Secrets(ns))
	meta := &chart.Metadata{APIVersion: "v2", Name: "legacy", Version: "0.9.0", KubeVersion: "<1.30.0-0"}
	for _, r := range []*release.Release{
		{Name: "shop", Namespace: ns, Version: 1, Info: &release.Info{Status: rcommon.StatusSuperseded},
			Chart: &chart.Chart{Metadata: meta}, Manifest: "---\n# Source: legacy/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\n"},
		{Name: "shop", Namespace: ns, Version: 2, Info: &release.Info{Status: rcommon.StatusDeployed},
			Chart: &chart.Chart{Metadata: meta}, Manifest: "---\n# Source: legacy/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\n" +
				"---\n# Source: legacy/templates/pdb.yaml\napiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: shop\nspec:\n  minAvailable: 1\n"},
	} {
		if err := store.Create(fmt.Sprintf("sh.helm.release.v1.%s.v%d", r.Name, r.Version), r); err != nil {
			t.Fatalf("store release revision %d: %v", r.Version, err)
		}
	}

	var removed, kube []string
	for _, f := range runChecks(t, snap(t, env), upgrade.Options{Target: upgrade.Version{Minor: 37}}) {
		if f.Object == nil || f.Object.Namespace != ns {
			continue
		}
		switch f.Check {
		case upgrade.RemovedCheck:
			removed = append(removed, f.Object.String()+": "+f.Message)
		case upgrade.KubeVersionCheck:
			kube = append(kube, f.Message)
		}
	}
	want := ns + "/PodDisruptionBudget/shop: Helm release " + ns + "/shop (revision 2, chart legacy-0.9.0) applies it from legacy/templates/pdb.yaml through policy/v1beta1 PodDisruptionBudget"
	if len(removed) != 1 || !strings.HasPrefix(removed[0], want) {
		t.Errorf("removed-api findings = %q, want one starting %q", removed, want)
	}
	if len(kube) != 1 || !strings.Contains(kube[0], `"<1.30.0-0"`) {
		t.Errorf("chart-kube-version findings = %q, want one for <1.30.0-0", kube)
	}
}

// TestIntegrationRequestedMetric lists, through a deprecated built-in
// version, every resource the sandbox still serves at one, and expects the
// API server's apiserver_requested_deprecated_apis metric, as read for the
// requested-deprecated-api check, to name it. When the sandbox serves no
// deprecated built-in version it only checks that the metric is readable.
func TestIntegrationRequestedMetric(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs := env.Clientset(t)
	dc, err := dynamic.NewForConfig(env.Config())
	if err != nil {
		t.Fatal(err)
	}
	tab, err := upgrade.Data()
	if err != nil {
		t.Fatal(err)
	}
	_, lists, err := cs.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Logf("discovery incomplete: %v", err)
	}
	var called []string
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !strings.Contains(strings.Join(r.Verbs, ","), "list") {
				continue
			}
			if _, ok := tab.Lookup(l.GroupVersion, r.Kind); !ok {
				continue
			}
			if _, err := dc.Resource(gv.WithResource(r.Name)).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
				t.Fatalf("list %s %s: %v", l.GroupVersion, r.Name, err)
			}
			called = append(called, l.GroupVersion+" "+r.Name)
		}
	}
	target, err := cluster.ConfigFlags{Kubeconfig: env.Kubeconfig()}.Load()
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := cluster.DeprecatedAPIRequests(ctx, target)
	if err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	got := map[string]bool{}
	for _, r := range reqs {
		gv := r.Version
		if r.Group != "" {
			gv = r.Group + "/" + gv
		}
		got[gv+" "+r.Resource] = true
	}
	for _, c := range called {
		if !got[c] {
			t.Errorf("listed deprecated %s, but the metric does not name it (it has %v)", c, reqs)
		}
	}
	t.Logf("deprecated built-in resources served by the sandbox and listed: %q", called)
}

// TestIntegrationFixAcceptedByServer sends every object that Fix converted in
// the testdata/fix fixtures to the sandbox's API server with server-side
// apply and dryRun=All: the server must accept each one as it is.
func TestIntegrationFixAcceptedByServer(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	ns := namespace(t, env.Clientset(t), "upgrade-fix")
	target, err := cluster.ConfigFlags{Kubeconfig: env.Kubeconfig()}.Load()
	if err != nil {
		t.Fatal(err)
	}
	ap, err := cluster.NewApplier(target)
	if err != nil {
		t.Fatal(err)
	}
	ap.Namespace = ns
	paths, err := filepath.Glob(filepath.Join("testdata", "fix", "*.after.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	sent := 0
	for _, p := range paths {
		snap, err := manifest.Read(ctx, []string{p}, manifest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Invalid) > 0 {
			t.Errorf("%s: %d invalid documents: %+v", p, len(snap.Invalid), snap.Invalid)
		}
		tab, err := upgrade.Data()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range snap.Objects {
			if _, old := tab.Lookup(o.GetAPIVersion(), o.GetKind()); old {
				continue // left for a person; its .notes file says why
			}
			if _, err := ap.Apply(ctx, o.Unstructured, cluster.ApplyOptions{DryRun: true}); err != nil {
				t.Errorf("%s: the server refused the converted %s %s/%s: %v", o.Origin, o.GetAPIVersion(), o.GetKind(), o.GetName(), err)
			}
			sent++
		}
	}
	converted := 0
	befores, _ := filepath.Glob(filepath.Join("testdata", "fix", "*.before.yaml"))
	for _, p := range befores {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		_, res, err := upgrade.Fix(p, src, upgrade.Version{Minor: 37})
		if err != nil {
			t.Fatal(err)
		}
		converted += len(res.Converted)
	}
	if sent != converted || sent == 0 {
		t.Errorf("sent %d objects, but Fix converted %d in the fixtures", sent, converted)
	}
	t.Logf("%d converted objects accepted with dryRun=All", sent)
}
