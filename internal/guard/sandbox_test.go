package guard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/shipshape-dev/shipshape/internal/audit/rbac"
	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

// TestMain runs the tests through the sandbox harness; since Go 1.15 the
// test binary exits with m.Run's result when TestMain returns.
func TestMain(m *testing.M) { sandboxtest.Main(m) }

// warnings collects the admission warnings client-go receives.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	w.msgs = append(w.msgs, text)
	w.mu.Unlock()
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

// serve runs the guard's HTTPS server on 127.0.0.1 with a certificate from
// its own CA and returns its URL.
func serve(t *testing.T, s *Server, cm *CertManager) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.Handler(), TLSConfig: cm.TLSConfig(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String()
}

// TestGuardAsWebhook registers the guard, served from this test process, as
// a ValidatingWebhookConfiguration of the sandbox API server (url and
// caBundle), then makes real create and update requests.
func TestGuardAsWebhook(t *testing.T) {
	env := sandboxtest.Get(t)
	admin := env.Clientset(t)
	ctx := context.Background()
	sfx := rand.String(5)
	warnNS, denyNS := "guard-warn-"+sfx, "guard-deny-"+sfx

	ca, err := NewCA(time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := NewCertManager(ca, CertOptions{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig([]byte("defaultMode: warn\nrules:\n- namespaces: [\"guard-deny-*\"]\n  mode: deny\n"))
	if err != nil {
		t.Fatal(err)
	}
	related, err := cluster.NewGuardContext(&cluster.Target{Config: env.Config(), Host: env.Config().Host})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	t.Cleanup(func() { stop(); related.Stop() })
	if err := related.Start(rctx); err != nil {
		t.Fatal(err)
	}
	guard := NewServer(Options{Checks: rbac.Checks(), Filter: annotationFilter, Config: cfg, Certs: cm, Related: related.Related})
	url := serve(t, guard, cm) + "/validate"

	for _, n := range []string{warnNS, denyNS} {
		if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"shipshape.dev/guard-test": sfx}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = admin.CoreV1().Namespaces().Delete(context.Background(), n, metav1.DeleteOptions{}) })
	}
	none := admissionregistrationv1.SideEffectClassNone
	fail := admissionregistrationv1.Fail
	timeout := int32(10)
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "shipshape-guard-test-" + sfx},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         "guard.shipshape.dev",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: ca.CertPEM},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{rbacv1.GroupName}, APIVersions: []string{"v1"}, Resources: []string{"roles", "rolebindings"}},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"shipshape.dev/guard-test": sfx}},
			SideEffects:             &none,
			FailurePolicy:           &fail,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	if _, err := admin.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), vwc.Name, metav1.DeleteOptions{})
	})

	w := &warnings{}
	rc := rest.CopyConfig(env.Config())
	rc.WarningHandler = w
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	wild := func(name string, ann map[string]string) *rbacv1.Role {
		return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"*"}, Verbs: []string{"list"}}}}
	}
	clean := func(name string) *rbacv1.Role {
		return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}}
	}
	// The API server picks the new webhook up asynchronously: wait until
	// a dry-run create in the deny namespace is refused.
	sandboxtest.Eventually(t, time.Minute, "webhook active", func() error {
		_, err := cs.RbacV1().Roles(denyNS).Create(ctx, wild("probe", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil {
			return errors.New("dry-run create of a wildcard role was allowed")
		}
		if !apierrors.IsForbidden(err) {
			return err
		}
		return nil
	})
	w.take()

	hasCheck := func(msgs []string, id string) bool {
		return slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, "["+id+"]") })
	}

	t.Run("warn mode allows with warnings on create and update", func(t *testing.T) {
		r, err := cs.RbacV1().Roles(warnNS).Create(ctx, wild("wild", nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create in warn mode: %v", err)
		}
		if got := w.take(); !hasCheck(got, rbac.WildcardCheck) {
			t.Errorf("create: warnings %q lack %s", got, rbac.WildcardCheck)
		}
		r.Labels = map[string]string{"touched": "yes"}
		if _, err := cs.RbacV1().Roles(warnNS).Update(ctx, r, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update in warn mode: %v", err)
		}
		if got := w.take(); !hasCheck(got, rbac.WildcardCheck) {
			t.Errorf("update: warnings %q lack %s", got, rbac.WildcardCheck)
		}
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "to-default"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "wild"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: warnNS}}}
		if _, err := cs.RbacV1().RoleBindings(warnNS).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create binding in warn mode: %v", err)
		}
		if got := w.take(); !hasCheck(got, rbac.DefaultSACheck) {
			t.Errorf("binding: warnings %q lack %s", got, rbac.DefaultSACheck)
		}
	})

	t.Run("deny mode denies create and update", func(t *testing.T) {
		_, err := cs.RbacV1().Roles(denyNS).Create(ctx, wild("wild", nil), metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "shipshape guard denied") || !strings.Contains(err.Error(), rbac.WildcardCheck) {
			t.Fatalf("create of a wildcard role in deny mode: err %v, want forbidden by shipshape guard naming %s", err, rbac.WildcardCheck)
		}
		w.take() // a denial carries the findings as warnings too
		r, err := cs.RbacV1().Roles(denyNS).Create(ctx, clean("clean"), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create of a clean role in deny mode: %v", err)
		}
		if got := w.take(); len(got) != 0 {
			t.Errorf("clean role got warnings %q", got)
		}
		r.Rules = wild("x", nil).Rules
		if _, err := cs.RbacV1().Roles(denyNS).Update(ctx, r, metav1.UpdateOptions{}); !apierrors.IsForbidden(err) {
			t.Fatalf("update to a wildcard role in deny mode: err %v, want forbidden", err)
		}
		w.take()
		got, err := admin.RbacV1().Roles(denyNS).Get(ctx, "clean", metav1.GetOptions{})
		if err != nil || slices.Contains(got.Rules[0].Resources, "*") {
			t.Errorf("the denied update was stored: %v %v", got, err)
		}
	})

	t.Run("a binding is judged with its role from the cluster", func(t *testing.T) {
		if _, err := admin.RbacV1().Roles(denyNS).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "execer", Annotations: map[string]string{
			"shipshape.dev/exempt": rbac.ExecAttachCheck, "shipshape.dev/exempt-reason": "test fixture"}},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}}, metav1.CreateOptions{}); err == nil {
			t.Fatal("a superuser role must be denied by rbac/wildcard")
		}
		w.take()
		// A namespaced superuser role, created past the guard, then bound: only
		// the role's rules (from the watch cache) make the binding a finding.
		nsOnly := "guard-ctx-" + sfx
		if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsOnly}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = admin.CoreV1().Namespaces().Delete(context.Background(), nsOnly, metav1.DeleteOptions{}) })
		if _, err := admin.RbacV1().Roles(nsOnly).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "all"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		ns, err := admin.CoreV1().Namespaces().Get(ctx, nsOnly, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ns.Labels["shipshape.dev/guard-test"] = sfx
		if _, err := admin.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-all"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "all"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}}}
		sandboxtest.Eventually(t, 30*time.Second, "binding warned about through its role", func() error {
			_, err := cs.RbacV1().RoleBindings(nsOnly).Create(ctx, rb, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil {
				return err
			}
			if got := w.take(); !hasCheck(got, rbac.ClusterAdminCheck) {
				return fmt.Errorf("warnings %q lack %s", got, rbac.ClusterAdminCheck)
			}
			return nil
		})
	})

	t.Run("exempted object passes in deny mode", func(t *testing.T) {
		ann := map[string]string{"shipshape.dev/exempt": rbac.WildcardCheck, "shipshape.dev/exempt-reason": "break-glass role, reviewed"}
		if _, err := cs.RbacV1().Roles(denyNS).Create(ctx, wild("exempted", ann), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create of an exempted role: %v", err)
		}
		if got := w.take(); hasCheck(got, rbac.WildcardCheck) {
			t.Errorf("exempted finding still warned: %q", got)
		}
	})

	t.Run("metrics count the reviews", func(t *testing.T) {
		rec := httptest.NewRecorder()
		guard.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body := rec.Body.String()
		for _, want := range []string{`shipshape_guard_reviews_total{mode="deny",decision="denied"}`, `shipshape_guard_reviews_total{mode="warn",decision="allowed"}`, `shipshape_guard_exempted_findings_total [1-9]`} {
			if !regexp.MustCompile(regexp.QuoteMeta(strings.Fields(want)[0]) + `( [1-9]|\S* [1-9])`).MatchString(body) {
				t.Errorf("/metrics lacks %s:\n%s", want, body)
			}
		}
	})
}

// TestInstallManifestAccepted sends every object of deploy/guard to the
// sandbox API server: the namespace and service account for real, the rest as a server-side dry
// run, so that schema, RBAC and webhook-configuration validation (including
// the CEL matchCondition) all run.
func TestInstallManifestAccepted(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	snap, err := manifest.Read(ctx, []string{"../../deploy/guard"}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Invalid) > 0 || len(snap.Objects) == 0 {
		t.Fatalf("deploy/guard: %d objects, invalid %+v", len(snap.Objects), snap.Invalid)
	}
	dc, err := dynamic.NewForConfig(env.Config())
	if err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(env.Clientset(t).Discovery())
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	kinds := map[string]bool{}
	for _, o := range snap.Objects {
		gvk := o.GroupVersionKind()
		kinds[gvk.Kind] = true
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s: %v", o.Origin, err)
		}
		ri := dc.Resource(m.Resource)
		opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
		if gvk.Kind == "Namespace" || gvk.Kind == "ServiceAccount" {
			opts.DryRun = nil // what the pod dry run below needs to exist
		}
		var err2 error
		if m.Scope.Name() == "namespace" {
			_, err2 = ri.Namespace(o.GetNamespace()).Create(ctx, o.Unstructured, opts)
		} else {
			_, err2 = ri.Create(ctx, o.Unstructured, opts)
		}
		if err2 != nil {
			t.Errorf("%s (%s %s): %v", o.Origin, gvk.Kind, o.GetName(), err2)
		}
		if gvk.Kind == "Deployment" {
			// A pod of the template, dry-run: Pod Security admission
			// (the namespace enforces restricted) and priority admission judge it.
			tmpl, _, _ := unstructured.NestedMap(o.Object, "spec", "template")
			pod := &unstructured.Unstructured{Object: tmpl}
			pod.SetAPIVersion("v1")
			pod.SetKind("Pod")
			pod.SetName(o.GetName() + "-pod")
			pr := dc.Resource(schema.GroupVersionResource{Version: "v1", Resource: "pods"}).Namespace(o.GetNamespace())
			if _, err := pr.Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
				t.Errorf("%s: a pod of the Deployment's template is refused: %v", o.Origin, err)
			}
		}
	}
	for _, k := range []string{"Deployment", "PodDisruptionBudget", "Service", "ValidatingWebhookConfiguration", "ServiceAccount", "Role", "ClusterRole"} {
		if !kinds[k] {
			t.Errorf("deploy/guard has no %s", k)
		}
	}
}
