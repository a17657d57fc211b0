package rbac

import (
	"context"
	"fmt"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

// TestMain runs the tests through the sandbox harness; since Go 1.15 the
// test binary exits with m.Run's result when TestMain returns.
func TestMain(m *testing.M) { sandboxtest.Main(m) }

// TestWhoCanAgreesWithSubjectAccessReview seeds roles and bindings in the
// sandbox, reads them back with cluster.Snapshot, and asks for every
// (subject, request) pair both the model and the API server's
// SubjectAccessReview: the answers must agree.
func TestWhoCanAgreesWithSubjectAccessReview(t *testing.T) {
	env := sandboxtest.Get(t)
	cs := env.Clientset(t)
	ctx := context.Background()
	sfx := rand.String(5)
	ns, other := "whocan-"+sfx, "whocan-other-"+sfx
	for _, n := range []string{ns, other} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), n, metav1.DeleteOptions{}) })
	}
	rule := func(verbs []string, group string, resources []string, names ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: []string{group}, Resources: resources, ResourceNames: names}
	}
	aggLabel := "shipshape.dev/test-aggregate-" + sfx
	clusterRoles := []rbacv1.ClusterRole{
		{ObjectMeta: metav1.ObjectMeta{Name: "wc-exec-" + sfx}, Rules: []rbacv1.PolicyRule{rule([]string{"create"}, "", []string{"pods/exec"})}},
		{ObjectMeta: metav1.ObjectMeta{Name: "wc-named-secret-" + sfx}, Rules: []rbacv1.PolicyRule{rule([]string{"get"}, "", []string{"secrets"}, "s1")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "wc-agg-" + sfx}, AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{aggLabel: "true"}}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "wc-agg-part-" + sfx, Labels: map[string]string{aggLabel: "true"}}, Rules: []rbacv1.PolicyRule{rule([]string{"list", "get"}, "", []string{"configmaps"})}},
		{ObjectMeta: metav1.ObjectMeta{Name: "wc-wild-" + sfx}, Rules: []rbacv1.PolicyRule{rule([]string{"*"}, "apps", []string{"*"})}},
	}
	for _, cr := range clusterRoles {
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &cr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.RbacV1().ClusterRoles().Delete(context.Background(), cr.Name, metav1.DeleteOptions{}) })
	}
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "secret-reader"},
		Rules: []rbacv1.PolicyRule{rule([]string{"get", "list"}, "", []string{"secrets"}), rule([]string{"list"}, "", []string{"pods"})}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	user := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	group := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	ref := func(kind, name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
	}
	roleBindings := []rbacv1.RoleBinding{
		{ObjectMeta: metav1.ObjectMeta{Name: "alice-secrets", Namespace: ns}, RoleRef: ref("Role", "secret-reader"), Subjects: []rbacv1.Subject{user("alice")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "devs-exec", Namespace: ns}, RoleRef: ref("ClusterRole", "wc-exec-"+sfx), Subjects: []rbacv1.Subject{group("devs")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "sas-read", Namespace: ns}, RoleRef: ref("Role", "secret-reader"), Subjects: []rbacv1.Subject{group("system:serviceaccounts:" + other)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "app-sa-exec", Namespace: ns}, RoleRef: ref("ClusterRole", "wc-exec-"+sfx), Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "app"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "erin-wild", Namespace: other}, RoleRef: ref("ClusterRole", "wc-wild-"+sfx), Subjects: []rbacv1.Subject{user("erin")}},
	}
	for _, rb := range roleBindings {
		if _, err := cs.RbacV1().RoleBindings(rb.Namespace).Create(ctx, &rb, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	crbs := []rbacv1.ClusterRoleBinding{
		{ObjectMeta: metav1.ObjectMeta{Name: "wc-bob-" + sfx}, RoleRef: ref("ClusterRole", "wc-named-secret-"+sfx), Subjects: []rbacv1.Subject{user("bob")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "wc-carol-" + sfx}, RoleRef: ref("ClusterRole", "wc-agg-"+sfx), Subjects: []rbacv1.Subject{user("carol")}},
	}
	for _, b := range crbs {
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &b, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), b.Name, metav1.DeleteOptions{})
		})
	}
	// The controller-manager's aggregation controller fills wc-agg.
	sandboxtest.Eventually(t, time.Minute, "aggregated ClusterRole filled", func() error {
		cr, err := cs.RbacV1().ClusterRoles().Get(ctx, "wc-agg-"+sfx, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(cr.Rules) == 0 {
			return fmt.Errorf("no rules yet")
		}
		return nil
	})

	target := &cluster.Target{Config: env.Config(), AllNamespaces: true, Host: env.Config().Host}
	snap, err := cluster.Snapshot(ctx, target, cluster.SnapshotOptions{Resources: []schema.GroupResource{
		{Group: rbacGroup, Resource: "roles"}, {Group: rbacGroup, Resource: "rolebindings"},
		{Group: rbacGroup, Resource: "clusterroles"}, {Group: rbacGroup, Resource: "clusterrolebindings"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(snap)
	// Resolve aggregation from the parts as well, as for files: wipe the
	// controller's result to prove the model computes it.
	m.ClusterRoles["wc-agg-"+sfx].Own = nil
	m.aggregate()

	users := []User{
		{Name: "alice"}, {Name: "bob"}, {Name: "carol"}, {Name: "dave", Groups: []string{"devs"}}, {Name: "erin"}, {Name: "nobody"},
		ServiceAccountUser(ns, "app"), ServiceAccountUser(ns, "default"), ServiceAccountUser(other, "ci"),
	}
	requests := []Attributes{
		{Verb: "get", Resource: "secrets", Namespace: ns, Name: "s1"},
		{Verb: "get", Resource: "secrets", Namespace: ns, Name: "s2"},
		{Verb: "list", Resource: "secrets", Namespace: ns},
		{Verb: "list", Resource: "secrets"},
		{Verb: "get", Resource: "secrets", Namespace: other, Name: "s1"},
		{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: ns, Name: "web"},
		{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: other, Name: "web"},
		{Verb: "list", Resource: "pods", Namespace: ns},
		{Verb: "list", Resource: "configmaps", Namespace: other},
		{Verb: "delete", Group: "apps", Resource: "deployments", Namespace: other, Name: "d"},
		{Verb: "delete", Group: "apps", Resource: "deployments", Namespace: ns, Name: "d"},
		{Verb: "get", Group: "apps", Resource: "deployments", Subresource: "scale", Namespace: other, Name: "d"},
	}
	agree, allowed := 0, 0
	for _, u := range users {
		for _, a := range requests {
			sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
				User: u.Name, Groups: u.Groups,
				ResourceAttributes: &authzv1.ResourceAttributes{Verb: a.Verb, Group: a.Group, Resource: a.Resource, Subresource: a.Subresource, Namespace: a.Namespace, Name: a.Name},
			}}
			got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ours, why := m.Allows(u, a)
			if ours != got.Status.Allowed {
				t.Errorf("%s: %s: model says %v (%s), SubjectAccessReview says %v (%s)", u.Name, a, ours, why, got.Status.Allowed, got.Status.Reason)
				continue
			}
			agree++
			if ours {
				allowed++
				// WhoCan must list a subject that covers u.
				if !whoCanCovers(m.WhoCan(a), u) {
					t.Errorf("%s: %s allowed, but WhoCan does not list a subject matching it", u.Name, a)
				}
			}
		}
	}
	if allowed == 0 || allowed == agree {
		t.Errorf("the seed must produce both allowed and denied answers; got %d allowed of %d", allowed, agree)
	}
	t.Logf("%d (subject, request) pairs agree with SubjectAccessReview, %d allowed", agree, allowed)
}

func whoCanCovers(gs []Grant, u User) bool {
	for _, g := range gs {
		if subjectMatches(rbacv1.Subject{Kind: g.Kind, Name: g.Name, Namespace: g.Namespace}, "", u) {
			return true
		}
	}
	return false
}
