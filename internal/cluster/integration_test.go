package cluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

var (
	crdGVR        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
)

// admin returns clients for setting up fixtures, with client-side
// throttling loose enough to create thousands of objects quickly.
func admin(t testing.TB, env *sandboxtest.Env) (*kubernetes.Clientset, *dynamic.DynamicClient) {
	t.Helper()
	cfg := rest.CopyConfig(env.Config())
	cfg.QPS, cfg.Burst = 500, 1000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("clientset: %v", err)
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("dynamic client: %v", err)
	}
	return cs, dc
}

// testNamespace creates a namespace that is deleted when the test ends.
func testNamespace(t testing.TB, cs kubernetes.Interface, prefix string) string {
	t.Helper()
	ns, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

func gapsFor(s *snapshot.Snapshot, source string) []snapshot.Gap {
	var out []snapshot.Gap
	for _, g := range s.Gaps {
		if g.Source == source {
			out = append(out, g)
		}
	}
	return out
}

func TestIntegrationCustomResources(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs, dc := admin(t, env)
	ns := testNamespace(t, cs, "crd")

	group := "w" + rand.String(6) + ".example.com"
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "widgets." + group},
		"spec": map[string]any{
			"group": group,
			"scope": "Namespaced",
			"names": map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type":                                 "object",
					"x-kubernetes-preserve-unknown-fields": true,
				}},
			}},
		},
	}}
	if _, err := dc.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	t.Cleanup(func() {
		_ = dc.Resource(crdGVR).Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{})
	})
	sandboxtest.Eventually(t, time.Minute, "CRD established", func() error {
		got, err := dc.Resource(crdGVR).Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err != nil {
			return err
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return nil
			}
		}
		return fmt.Errorf("conditions %v", conds)
	})

	widgets := dc.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}).Namespace(ns)
	for _, name := range []string{"a", "b"} {
		w := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": group + "/v1",
			"kind":       "Widget",
			"metadata":   map[string]any{"name": name},
			"spec":       map[string]any{"size": int64(3)},
		}}
		sandboxtest.Eventually(t, time.Minute, "create widget "+name, func() error {
			_, err := widgets.Create(ctx, w, metav1.CreateOptions{})
			return err
		})
	}

	// Load the target the way the CLI does, from the sandbox's kubeconfig.
	target, err := ConfigFlags{Kubeconfig: env.Kubeconfig(), Namespace: ns}.Load()
	if err != nil {
		t.Fatalf("load kubeconfig: %v", err)
	}
	opts := SnapshotOptions{Kinds: []schema.GroupKind{{Group: group, Kind: "Widget"}}}
	var s *snapshot.Snapshot
	// Aggregated discovery picks up a new CRD asynchronously.
	sandboxtest.Eventually(t, time.Minute, "widgets in snapshot", func() error {
		var err error
		s, err = Snapshot(ctx, target, opts)
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		if len(s.Objects) != 2 {
			return fmt.Errorf("%d objects", len(s.Objects))
		}
		return nil
	})

	wantRes := snapshot.Resource{Group: group, Version: "v1", Resource: "widgets", Kind: "Widget", Namespaced: true}
	found := false
	for _, r := range s.Resources {
		if r.Group == group {
			r.Verbs = nil
			if diff := cmp.Diff(wantRes, r); diff != "" {
				t.Errorf("widget resource (-want +got):\n%s", diff)
			}
			found = true
		}
	}
	if !found {
		t.Errorf("discovery did not report %s", group)
	}
	want := []string{
		fmt.Sprintf("%s/v1 Widget %s/a", group, ns),
		fmt.Sprintf("%s/v1 Widget %s/b", group, ns),
	}
	if diff := cmp.Diff(want, ids(s)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if size, _, _ := unstructured.NestedInt64(s.Objects[0].Object, "spec", "size"); size != 3 {
		t.Errorf("widget spec.size = %d, want 3", size)
	}
	if g := gapsFor(s, "widgets"); len(g) != 0 {
		t.Errorf("unexpected gaps: %v", g)
	}
	if s.Server == nil || s.Server.Host != env.Config().Host || !strings.HasPrefix(s.Server.GitVersion, "v1.") || s.Server.Context == "" {
		t.Errorf("Server = %+v, want the sandbox's host, context and a v1.x version", s.Server)
	}
}

// TestIntegrationPagination lists more than 2,000 objects of one kind and
// checks that all arrive over several pages.
func TestIntegrationPagination(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs, _ := admin(t, env)
	ns := testNamespace(t, cs, "pages")

	const n = 2100
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			_, err := cs.CoreV1().ConfigMaps(ns).Create(gctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("page-%04d", i)},
				Data:       map[string]string{"i": fmt.Sprint(i)},
			}, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("create configmap %d: %w", i, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	var continues atomic.Int32
	cfg := rest.CopyConfig(env.Config())
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.HasSuffix(r.URL.Path, "/configmaps") && r.URL.Query().Get("continue") != "" {
				continues.Add(1)
			}
			return rt.RoundTrip(r)
		})
	})
	s, err := Snapshot(ctx, &Target{Config: cfg, Namespace: ns}, SnapshotOptions{
		Resources: []schema.GroupResource{{Resource: "configmaps"}},
		PageSize:  500,
	})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	got := map[string]bool{}
	for _, o := range s.Objects {
		if o.GetNamespace() != ns || o.GetKind() != "ConfigMap" || o.GetAPIVersion() != "v1" {
			t.Fatalf("unexpected object %s %s %s/%s", o.GetAPIVersion(), o.GetKind(), o.GetNamespace(), o.GetName())
		}
		if strings.HasPrefix(o.GetName(), "page-") {
			got[o.GetName()] = true
		}
	}
	if len(got) != n {
		t.Errorf("snapshot has %d of the %d configmaps", len(got), n)
	}
	// 2,100 objects at 500 a page take at least 5 pages: 4 with a continue token.
	if c := continues.Load(); c < 4 {
		t.Errorf("%d LIST requests carried a continue token, want at least 4", c)
	}
	if g := gapsFor(s, "configmaps"); len(g) != 0 {
		t.Errorf("unexpected gaps: %v", g)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestIntegrationForbiddenResource reads as a user who may list configmaps
// but not secrets.
func TestIntegrationForbiddenResource(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs, _ := admin(t, env)
	ns := testNamespace(t, cs, "rbac")
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "visible"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create configmap: %v", err)
	}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "hidden"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create secret: %v", err)
	}

	const user = "restricted"
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "shipshape-restricted-"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""},
			Resources: []string{"configmaps", "namespaces"},
			Verbs:     []string{"get", "list"},
		}},
	}
	role, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create clusterrole: %v", err)
	}
	t.Cleanup(func() { _ = cs.RbacV1().ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{}) })
	binding, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: user}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create clusterrolebinding: %v", err)
	}
	t.Cleanup(func() {
		_ = cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
	})

	target := &Target{Config: env.ConfigAs(user), Namespace: ns}
	opts := SnapshotOptions{Resources: []schema.GroupResource{{Resource: "configmaps"}, {Resource: "secrets"}}}
	var s *snapshot.Snapshot
	// The authorizer sees the new binding after its informer syncs.
	sandboxtest.Eventually(t, 30*time.Second, "configmaps readable as "+user, func() error {
		var err error
		s, err = Snapshot(ctx, target, opts)
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		if g := gapsFor(s, "configmaps"); len(g) != 0 {
			return fmt.Errorf("gaps %v", g)
		}
		return nil
	})

	if !s.Partial() {
		t.Error("snapshot is not partial though secrets are forbidden")
	}
	gaps := gapsFor(s, "secrets")
	t.Logf("gaps: %v", s.Gaps)
	wantPrefix := `forbidden: User "restricted" cannot list resource "secrets" in API group "" in the namespace "` + ns + `"`
	if len(gaps) != 1 || !strings.HasPrefix(gaps[0].Reason, wantPrefix) {
		t.Errorf("secrets gaps = %v, want one starting %q", gaps, wantPrefix)
	}
	var names []string
	for _, o := range s.Objects {
		names = append(names, o.GetKind()+"/"+o.GetName())
	}
	if !slices.Contains(names, "ConfigMap/visible") || slices.Contains(names, "Secret/hidden") {
		t.Errorf("objects = %v, want ConfigMap/visible and no secret", names)
	}
}

// TestIntegrationBrokenAPIService registers an aggregated API whose backend
// has no endpoints: the snapshot succeeds and reports the group version.
func TestIntegrationBrokenAPIService(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs, dc := admin(t, env)
	ns := testNamespace(t, cs, "broken-api")
	if _, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "api"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 443, TargetPort: intstr.FromInt32(8443)}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service: %v", err)
	}

	const gv = "broken.example.com/v1beta1"
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": "v1beta1.broken.example.com"},
		"spec": map[string]any{
			"group":                 "broken.example.com",
			"version":               "v1beta1",
			"service":               map[string]any{"namespace": ns, "name": "api", "port": int64(443)},
			"insecureSkipTLSVerify": true,
			"groupPriorityMinimum":  int64(1000),
			"versionPriority":       int64(15),
		},
	}}
	if _, err := dc.Resource(apiServiceGVR).Create(ctx, apiService, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create APIService: %v", err)
	}
	t.Cleanup(func() {
		err := dc.Resource(apiServiceGVR).Delete(context.Background(), apiService.GetName(), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete APIService: %v", err)
		}
	})

	target := &Target{Config: env.Config(), Namespace: ns}
	opts := SnapshotOptions{Resources: []schema.GroupResource{{Resource: "services"}}}
	var s *snapshot.Snapshot
	// The aggregator notices the unreachable backend asynchronously.
	sandboxtest.Eventually(t, time.Minute, "gap for "+gv, func() error {
		var err error
		s, err = Snapshot(ctx, target, opts)
		if err != nil {
			t.Fatalf("snapshot with a broken APIService: %v", err)
		}
		if len(gapsFor(s, gv)) == 0 {
			return fmt.Errorf("gaps %v", s.Gaps)
		}
		return nil
	})
	t.Logf("gaps: %v", s.Gaps)
	if !s.Partial() {
		t.Error("snapshot is not partial")
	}
	if g := gapsFor(s, gv); !strings.HasPrefix(g[0].Reason, "discovery failed: ") {
		t.Errorf("gap = %v, want reason 'discovery failed: ...'", g[0])
	}
	// The rest of the cluster is still read.
	var services []string
	for _, o := range s.Objects {
		services = append(services, o.GetName())
	}
	if !slices.Contains(services, "api") {
		t.Errorf("services = %v, want api", services)
	}
}

// TestIntegrationConnectionErrors checks that a server the client cannot
// trust or that rejects the credentials is an error, not a gap.
func TestIntegrationConnectionErrors(t *testing.T) {
	env := sandboxtest.Get(t)
	admin := env.Config()
	tests := []struct {
		name string
		cfg  *rest.Config
		want string
	}{
		{
			name: "unknown certificate authority",
			cfg: func() *rest.Config {
				c := rest.CopyConfig(admin)
				c.CAData, c.CAFile = nil, ""
				return c
			}(),
			want: "certificate",
		},
		{
			name: "rejected token",
			cfg: &rest.Config{
				Host:            admin.Host,
				TLSClientConfig: rest.TLSClientConfig{CAData: admin.CAData, CAFile: admin.CAFile},
				BearerToken:     "not-a-valid-token",
			},
			want: "credentials rejected",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Snapshot(context.Background(), &Target{Config: tt.cfg, Namespace: "default"}, SnapshotOptions{})
			if err == nil {
				t.Fatalf("snapshot succeeded with %d objects, gaps %v", len(s.Objects), s.Gaps)
			}
			prefix := "connect to " + admin.Host + ": "
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want %q... mentioning %q", err, prefix, tt.want)
			}
		})
	}
}
