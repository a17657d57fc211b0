package restore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/drift"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/restore"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// seededSecret is the value of the seeded Secret's password, decoded.
const seededSecret = "seeded-password-719"

func readEstate(t testing.TB) []snapshot.Object {
	t.Helper()
	snap, err := manifest.Read(context.Background(), []string{"testdata/estate.yaml"}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Invalid) > 0 {
		t.Fatalf("invalid test manifests: %+v", snap.Invalid)
	}
	return snap.Objects
}

func applierFor(t testing.TB, env *sandboxtest.Env) (*cluster.Applier, *cluster.Target) {
	t.Helper()
	tg := &cluster.Target{Config: env.Config(), Namespace: "default", Host: env.APIServerURL()}
	a, err := cluster.NewApplier(tg)
	if err != nil {
		t.Fatal(err)
	}
	return a, tg
}

// liveCopy reads the objects objs name from the cluster, as they are live
// (status, managedFields, uid...): a stand-in for a backup taken of it.
func liveCopy(t *testing.T, tg *cluster.Target, objs []snapshot.Object) []snapshot.Object {
	t.Helper()
	var gks []schema.GroupKind
	seen := map[schema.GroupKind]bool{}
	keys := map[drift.Key]bool{}
	for _, o := range objs {
		keys[drift.KeyOf(o.Unstructured)] = true
		gk := o.GroupVersionKind().GroupKind()
		if !seen[gk] {
			seen[gk] = true
			gks = append(gks, gk)
		}
	}
	all := *tg
	all.AllNamespaces, all.Namespace = true, ""
	snap, err := cluster.Snapshot(context.Background(), &all, cluster.SnapshotOptions{Kinds: gks})
	if err != nil {
		t.Fatal(err)
	}
	var out []snapshot.Object
	for _, o := range snap.Objects {
		if keys[drift.KeyOf(o.Unstructured)] {
			out = append(out, o)
		}
	}
	return out
}

func actions(res *restore.Result) map[restore.Action]int {
	m := map[restore.Action]int{}
	for _, it := range res.Items {
		m[it.Action]++
	}
	return m
}

func notDone(res *restore.Result) []string {
	var out []string
	for _, it := range res.Items {
		switch it.Action {
		case restore.Create, restore.Update, restore.Unchanged:
		default:
			out = append(out, string(it.Action)+" "+it.Key.String()+": "+it.Detail)
		}
	}
	return out
}

// TestRoundTrip seeds the shared sandbox, copies its objects as a backup
// would read them (with status, managedFields and every other server field),
// restores the copy into a second, fresh API server, and compares every
// object; then restores again and expects everything unchanged.
func TestRoundTrip(t *testing.T) {
	src := sandboxtest.Get(t)
	ctx := context.Background()
	estate := readEstate(t)

	srcApplier, srcTarget := applierFor(t, src)
	res, err := restore.Run(ctx, srcApplier, estate, restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if nd := notDone(res); len(nd) > 0 {
		t.Fatalf("seeding the source failed:\n%s", strings.Join(nd, "\n"))
	}
	backupCopy := liveCopy(t, srcTarget, estate)
	if len(backupCopy) != len(estate) {
		t.Fatalf("read back %d objects from the source, seeded %d", len(backupCopy), len(estate))
	}
	if _, ok := backupCopy[0].Object["metadata"].(map[string]any)["managedFields"]; !ok {
		t.Fatal("the live copy has no managedFields: the test would not show that restore strips them")
	}

	dst, err := sandboxtest.Start(ctx, sandboxtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dst.Stop() })
	dstApplier, dstTarget := applierFor(t, dst)

	res, err = restore.Run(ctx, dstApplier, backupCopy, restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if nd := notDone(res); len(nd) > 0 {
		t.Fatalf("restore failed for:\n%s", strings.Join(nd, "\n"))
	}
	if got := actions(res)[restore.Create]; got != len(backupCopy) {
		t.Errorf("created %d objects, want %d: %v", got, len(backupCopy), actions(res))
	}
	// Phases hold: the result lists the CRD first and the webhook last.
	if first, last := res.Items[0].Key.Kind, res.Items[len(res.Items)-1].Key.Kind; first != "CustomResourceDefinition" || last != "ValidatingWebhookConfiguration" {
		t.Errorf("first %s, last %s", first, last)
	}

	restored := liveCopy(t, dstTarget, estate)
	rep := drift.Diff(backupCopy, restored, drift.Options{})
	if !rep.Clean() || rep.Same != len(backupCopy) {
		t.Errorf("round trip differs: %s", rep.Summary())
		for _, e := range rep.Changed {
			t.Errorf("  %s: %v", e.Key, e.Changes)
		}
		for _, e := range rep.OnlyTree {
			t.Errorf("  missing %s", e.Key)
		}
	}
	// Binary Secret data survives byte for byte.
	sec, err := dst.Clientset(t).CoreV1().Secrets("shop").Get(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0, 1, 0xff, 0x80, 0x80, 0x80, 1, 2, 3, 0xff}; string(sec.Data["blob"]) != string(want) {
		t.Errorf("binary data = %v, want %v", sec.Data["blob"], want)
	}
	// The selector-less Service keeps its hand-made Endpoints.
	ep, err := dst.Clientset(t).CoreV1().Endpoints("shop").Get(ctx, "legacy-db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ep.Subsets) != 1 || len(ep.Subsets[0].Addresses) != 1 || ep.Subsets[0].Addresses[0].IP != "192.0.2.10" {
		t.Errorf("endpoints = %+v", ep.Subsets)
	}

	t.Run("second restore changes nothing", func(t *testing.T) {
		res, err := restore.Run(ctx, dstApplier, backupCopy, restore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(res); got[restore.Unchanged] != len(backupCopy) {
			t.Errorf("second restore: %v, want all %d unchanged", got, len(backupCopy))
			for _, it := range res.Items {
				if it.Action != restore.Unchanged {
					t.Errorf("  %s %s %v %s", it.Action, it.Key, it.Changes, it.Detail)
				}
			}
		}
	})

	t.Run("dry run reports updates with a field diff and stores nothing", func(t *testing.T) {
		changed := make([]snapshot.Object, len(backupCopy))
		copy(changed, backupCopy)
		for i, o := range changed {
			if o.GetKind() == "ConfigMap" && o.GetName() == "settings" {
				c := o.DeepCopy()
				_ = unstructured.SetNestedField(c.Object, "staging", "data", "mode")
				changed[i] = snapshot.Object{Unstructured: c, Origin: o.Origin}
			}
			if o.GetKind() == "Secret" && o.GetName() == "db" {
				c := o.DeepCopy()
				_ = unstructured.SetNestedField(c.Object, "bmV3LXNlY3JldC12YWx1ZQ==", "data", "password")
				changed[i] = snapshot.Object{Unstructured: c, Origin: o.Origin}
			}
		}
		extra := &unstructured.Unstructured{}
		extra.SetAPIVersion("v1")
		extra.SetKind("ConfigMap")
		extra.SetNamespace("shop")
		extra.SetName("new-one")
		changed = append(changed, snapshot.Object{Unstructured: extra})

		res, err := restore.Run(ctx, dstApplier, changed, restore.Options{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, it := range res.Items {
			if it.Action != restore.Unchanged {
				var ch []string
				for _, c := range it.Changes {
					ch = append(ch, c.String())
				}
				got[it.Key.String()] = string(it.Action) + " " + strings.Join(ch, "; ")
			}
		}
		want := map[string]string{
			"ConfigMap shop/new-one":  "create ",
			"ConfigMap shop/settings": `update ~ data.mode: "production" -> "staging"`,
			"Secret shop/db":          "update ~ data.password: (secret value) -> (secret value)",
		}
		if len(got) != len(want) {
			t.Errorf("dry run: got %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: got %q, want %q", k, got[k], v)
			}
		}
		out, _ := json.Marshal(res)
		for _, s := range []string{seededSecret, "new-secret-value", "bmV3LXNlY3JldC12YWx1ZQ"} {
			if strings.Contains(string(out), s) {
				t.Errorf("the dry-run result shows secret value %q", s)
			}
		}
		cm, err := dst.Clientset(t).CoreV1().ConfigMaps("shop").Get(ctx, "settings", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data["mode"] != "production" {
			t.Errorf("dry run stored mode=%q", cm.Data["mode"])
		}
		if _, err := dst.Clientset(t).CoreV1().ConfigMaps("shop").Get(ctx, "new-one", metav1.GetOptions{}); err == nil {
			t.Error("dry run created ConfigMap new-one")
		}
	})
}

// TestConflictsAreNotClobbered restores into a cluster where some objects
// exist, made by someone else, with other values.
func TestConflictsAreNotClobbered(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs := env.Clientset(t)
	a, _ := applierFor(t, env)
	ns := "conflicts"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Made by hand, with values the tree disagrees with, and one that agrees.
	for name, value := range map[string]string{"differs": "live-value", "agrees": "same"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string]string{"k": value}}
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
			t.Fatal(err)
		}
	}
	tree := []snapshot.Object{
		cmObject(ns, "differs", "tree-value"),
		cmObject(ns, "agrees", "same"),
		cmObject(ns, "absent", "tree-value"),
	}
	res, err := restore.Run(ctx, a, tree, restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]restore.Action{}
	for _, it := range res.Items {
		got[it.Key.Name] = it.Action
		if it.Action == restore.Conflict && !strings.Contains(it.Detail, `"kubectl-create"`) {
			t.Errorf("conflict detail does not name the owner: %q", it.Detail)
		}
	}
	want := map[string]restore.Action{"differs": restore.Conflict, "agrees": restore.Unchanged, "absent": restore.Create}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if res.Complete() {
		t.Error("a restore with a conflict says it is complete")
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "differs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["k"] != "live-value" {
		t.Errorf("the live value was overwritten: %q", cm.Data["k"])
	}

	// With ForceConflicts the tree wins.
	res, err = restore.Run(ctx, a, tree[:1], restore.Options{ForceConflicts: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items[0].Action != restore.Update {
		t.Errorf("forced: %s %s", res.Items[0].Action, res.Items[0].Detail)
	}
	cm, err = cs.CoreV1().ConfigMaps(ns).Get(ctx, "differs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["k"] != "tree-value" {
		t.Errorf("forced restore left %q", cm.Data["k"])
	}
}

func cmObject(ns, name, value string) snapshot.Object {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"data":     map[string]any{"k": value},
	}}
	return snapshot.Object{Unstructured: u, Origin: snapshot.Origin{Path: "tree/" + name + ".yaml", Line: 1}}
}

// TestUnservedReportedFirst: an object whose API nobody serves is reported
// before anything is applied, and the rest is restored.
func TestUnservedReportedFirst(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	a, _ := applierFor(t, env)
	gadget := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.org/v1", "kind": "Gadget",
		"metadata": map[string]any{"name": "g", "namespace": "default"},
	}}
	tree := []snapshot.Object{cmObject("default", "unserved-test", "v"), {Unstructured: gadget, Origin: snapshot.Origin{Path: "gadget.yaml", Line: 3}}}
	applied := 0
	var reported []restore.Item
	appliedWhenReported := -1
	res, err := restore.Run(ctx, a, tree, restore.Options{
		OnUnserved: func(items []restore.Item) { reported, appliedWhenReported = items, applied },
		Progress:   func(int, int, string) { applied++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(reported) != 1 || reported[0].Key.Kind != "Gadget" || reported[0].Action != restore.Unserved {
		t.Fatalf("reported %+v", reported)
	}
	if appliedWhenReported != 0 {
		t.Errorf("unserved objects reported after %d objects were applied", appliedWhenReported)
	}
	if !strings.Contains(reported[0].Detail, "example.org/v1 Gadget is not served") {
		t.Errorf("detail %q", reported[0].Detail)
	}
	if got := actions(res); got[restore.Create]+got[restore.Unchanged] != 1 || got[restore.Unserved] != 1 {
		t.Errorf("actions %v", got)
	}
}

// TestInterruptedRestoreCompletesOnRerun cancels a restore midway and runs
// it again.
func TestInterruptedRestoreCompletesOnRerun(t *testing.T) {
	env := sandboxtest.Get(t)
	a, _ := applierFor(t, env)
	ns := "interrupted"
	tree := []snapshot.Object{{Unstructured: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns},
	}}}}
	for i := range 60 {
		tree = append(tree, cmObject(ns, "cm-"+string(rune('a'+i/26))+string(rune('a'+i%26)), "v"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := restore.Run(ctx, a, tree, restore.Options{Concurrency: 4, Progress: func(done, _ int, _ string) {
		if done == 20 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted restore: err = %v, want context.Canceled", err)
	}
	if res == nil || res.Complete() || actions(res)[restore.NotDone] == 0 {
		t.Fatalf("interrupted restore claims completion: %v", actions(res))
	}
	res, err = restore.Run(context.Background(), a, tree, restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete() {
		t.Fatalf("rerun incomplete: %v", notDone(res))
	}
	got := actions(res)
	if got[restore.Create] == 0 || got[restore.Unchanged] == 0 || got[restore.Create]+got[restore.Unchanged] != len(tree) {
		t.Errorf("rerun: %v; want some created and some unchanged, %d in all", got, len(tree))
	}
	list, err := env.Clientset(t).CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 60+1 { // + kube-root-ca.crt
		t.Errorf("%d ConfigMaps after the rerun, want 61", len(list.Items))
	}
}

// countingTarget counts the applies (dry runs included) a restore sends.
type countingTarget struct {
	*cluster.Applier
	mu      sync.Mutex
	applies int
}

func (c *countingTarget) Apply(ctx context.Context, obj *unstructured.Unstructured, o cluster.ApplyOptions) (*unstructured.Unstructured, error) {
	c.mu.Lock()
	c.applies++
	c.mu.Unlock()
	return c.Applier.Apply(ctx, obj, o)
}

// TestRerunAsksNothingForUnchanged: a rerun judges unchanged objects from
// the live copies it lists, without a dry-run apply each; a field shipshape
// applied before and the tree no longer has is still removed.
func TestRerunAsksNothingForUnchanged(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	a, _ := applierFor(t, env)
	ns := "rerun"
	tree := []snapshot.Object{{Unstructured: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns},
	}}}}
	for i := range 8 {
		tree = append(tree, cmObject(ns, fmt.Sprintf("cm-%d", i), "v"))
	}
	labelled := tree[1].DeepCopy()
	labelled.SetLabels(map[string]string{"owner": "tree"})
	first := append([]snapshot.Object{tree[0], {Unstructured: labelled}}, tree[2:]...)
	if res, err := restore.Run(ctx, a, first, restore.Options{}); err != nil || !res.Complete() {
		t.Fatalf("first restore: %v %v", err, notDone(res))
	}

	ct := &countingTarget{Applier: a}
	res, err := restore.Run(ctx, ct, first, restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got[restore.Unchanged] != len(first) {
		t.Errorf("rerun: %v, want all %d unchanged", got, len(first))
	}
	// The Namespace is read with a GET (alone in its group) and the
	// ConfigMaps with one LIST; none needs an apply.
	if ct.applies != 0 {
		t.Errorf("rerun sent %d applies, want 0", ct.applies)
	}

	// The tree drops the label shipshape applied: that is an update.
	ct.applies = 0
	res, err = restore.Run(ctx, ct, tree, restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range res.Items {
		if it.Action != restore.Unchanged {
			var ch []string
			for _, c := range it.Changes {
				ch = append(ch, c.String())
			}
			got[it.Key.String()] = string(it.Action) + " " + strings.Join(ch, "; ")
		}
	}
	if want := `update - metadata.labels: {"owner":"tree"}`; len(got) != 1 || got["ConfigMap rerun/cm-0"] != want {
		t.Errorf("after dropping a label: %v, want ConfigMap rerun/cm-0: %s", got, want)
	}
	if ct.applies != 2 { // the dry run and the apply of cm-0
		t.Errorf("sent %d applies, want 2", ct.applies)
	}
	cm, err := env.Clientset(t).CoreV1().ConfigMaps(ns).Get(ctx, "cm-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cm.Labels["owner"]; ok {
		t.Errorf("label owner still set: %v", cm.Labels)
	}
}

// TestOwnersLinkedAgain: owner references a backup recorded by name are set
// again with the owners' UIDs in the target, as a separate field manager,
// once; an owner that does not exist is reported and left out.
func TestOwnersLinkedAgain(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	a, _ := applierFor(t, env)
	const ns = "owners-test"
	nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	role := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
		"metadata": map[string]any{"name": "owners-test-role"},
	}}
	owner := cmObject(ns, "owner", "o")
	dep := cmObject(ns, "dependent", "d")
	dep.SetAnnotations(map[string]string{drift.OwnersAnnotation: `[{"apiVersion":"v1","kind":"ConfigMap","name":"owner","controller":true,"blockOwnerDeletion":true},` +
		`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","name":"owners-test-role"},{"apiVersion":"v1","kind":"ConfigMap","name":"gone"},{"apiVersion":"example.org/v1","kind":"Gadget","name":"g"}]`})
	tree := []snapshot.Object{{Unstructured: nsObj}, {Unstructured: role}, owner, dep}

	depItem := func(res *restore.Result) restore.Item {
		for _, it := range res.Items {
			if it.Key.Name == "dependent" {
				return it
			}
		}
		t.Fatal("no item for the dependent")
		return restore.Item{}
	}
	res, err := restore.Run(ctx, a, tree, restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete() {
		t.Fatalf("incomplete: %+v", res.Items)
	}
	it := depItem(res)
	if !strings.Contains(it.Detail, "owner references set: ConfigMap/owner, ClusterRole/owners-test-role") ||
		!strings.Contains(it.Detail, "owner ConfigMap/gone not found") ||
		!strings.Contains(it.Detail, "owner Gadget/g could not be read (") {
		t.Errorf("detail %q", it.Detail)
	}

	cs := env.Clientset(t)
	liveOwner, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "owner", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	liveRole, err := cs.RbacV1().ClusterRoles().Get(ctx, "owners-test-role", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	liveDep, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "dependent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	refs := liveDep.OwnerReferences
	if len(refs) != 2 || refs[0].UID != liveOwner.UID || refs[0].Controller == nil || !*refs[0].Controller ||
		refs[0].BlockOwnerDeletion == nil || !*refs[0].BlockOwnerDeletion || refs[1].UID != liveRole.UID || refs[1].Controller != nil {
		t.Fatalf("owner references %+v", refs)
	}
	if liveDep.Data["k"] != "d" {
		t.Errorf("the owners' apply dropped the data: %v", liveDep.Data)
	}
	if _, ok := liveDep.Annotations[drift.OwnersAnnotation]; ok {
		t.Error("the backup annotation reached the cluster")
	}
	managers := map[string]bool{}
	for _, mf := range liveDep.ManagedFields {
		managers[mf.Manager] = true
	}
	if !managers[cluster.FieldManager] || !managers[restore.OwnersFieldManager] {
		t.Errorf("field managers %v", managers)
	}

	// A rerun finds the links in place and writes nothing.
	res, err = restore.Run(ctx, a, tree, restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if it := depItem(res); it.Action != restore.Unchanged || strings.Contains(it.Detail, "owner references set") {
		t.Errorf("rerun: %s, %q", it.Action, it.Detail)
	}
	again, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "dependent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.ResourceVersion != liveDep.ResourceVersion {
		t.Error("the rerun wrote the dependent again")
	}
}

// laggingDiscovery hides one API group from the mapper until it has been
// refreshed a few times: the API server's discovery document trails a new
// CRD's Established condition in the same way.
type laggingDiscovery struct {
	*cluster.Applier
	group     string
	mu        sync.Mutex
	refreshes int
}

const discoveryLag = 3

func (l *laggingDiscovery) Refresh() {
	l.mu.Lock()
	l.refreshes++
	l.mu.Unlock()
	l.Applier.Refresh()
}

func (l *laggingDiscovery) hidden(gvk schema.GroupVersionKind) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if gvk.Group == l.group && l.refreshes < discoveryLag {
		return fmt.Errorf("%s: %w", gvk, cluster.ErrNotServed)
	}
	return nil
}

func (l *laggingDiscovery) Mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	if err := l.hidden(gvk); err != nil {
		return nil, err
	}
	return l.Applier.Mapping(gvk)
}

func (l *laggingDiscovery) Get(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if err := l.hidden(obj.GroupVersionKind()); err != nil {
		return nil, err
	}
	return l.Applier.Get(ctx, obj)
}

func (l *laggingDiscovery) List(ctx context.Context, gvk schema.GroupVersionKind, ns string) ([]*unstructured.Unstructured, error) {
	if err := l.hidden(gvk); err != nil {
		return nil, err
	}
	return l.Applier.List(ctx, gvk, ns)
}

func (l *laggingDiscovery) Apply(ctx context.Context, obj *unstructured.Unstructured, o cluster.ApplyOptions) (*unstructured.Unstructured, error) {
	if err := l.hidden(obj.GroupVersionKind()); err != nil {
		return nil, err
	}
	return l.Applier.Apply(ctx, obj, o)
}

// TestNewKindsWaitForDiscovery: objects of a kind whose CRD the restore
// creates are applied once discovery serves the kind, even when discovery
// lags the CRD's Established condition.
func TestNewKindsWaitForDiscovery(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	a, _ := applierFor(t, env)
	const group = "lag.shipshape.test"
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "sprockets." + group},
		"spec": map[string]any{
			"group": group, "scope": "Namespaced",
			"names": map[string]any{"kind": "Sprocket", "plural": "sprockets", "singular": "sprocket", "listKind": "SprocketList"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true,
				}},
			}},
		},
	}}
	sprocket := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": group + "/v1", "kind": "Sprocket",
		"metadata": map[string]any{"name": "s1", "namespace": "default"},
		"spec":     map[string]any{"teeth": int64(12)},
	}}
	tree := []snapshot.Object{
		{Unstructured: crd, Origin: snapshot.Origin{Path: "crd.yaml", Line: 1}},
		{Unstructured: sprocket, Origin: snapshot.Origin{Path: "sprocket.yaml", Line: 1}},
	}
	lag := &laggingDiscovery{Applier: a, group: group}
	res, err := restore.Run(ctx, lag, tree, restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if nd := notDone(res); len(nd) > 0 {
		t.Fatalf("restore failed for:\n%s", strings.Join(nd, "\n"))
	}
	if lag.refreshes < discoveryLag {
		t.Fatalf("discovery refreshed %d times, the lag is %d: the test shows nothing", lag.refreshes, discoveryLag)
	}
	live, err := a.Get(ctx, sprocket)
	if err != nil || live == nil {
		t.Fatalf("the Sprocket is not in the cluster: %v", err)
	}
}
