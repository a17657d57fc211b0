package cli

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shipshape-dev/shipshape/internal/audit/rbac"
	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

func TestParseWhoCanRequest(t *testing.T) {
	for _, tc := range []struct {
		verb, resource, name string
		want                 rbac.Attributes
		bad                  bool
	}{
		{"get", "secrets", "", rbac.Attributes{Verb: "get", Resource: "secrets"}, false},
		{"CREATE", "pods/exec", "web", rbac.Attributes{Verb: "create", Resource: "pods", Subresource: "exec", Name: "web"}, false},
		{"update", "deployments.apps/scale", "", rbac.Attributes{Verb: "update", Group: "apps", Resource: "deployments", Subresource: "scale"}, false},
		{"get", "ingresses.networking.k8s.io", "", rbac.Attributes{Verb: "get", Group: "networking.k8s.io", Resource: "ingresses"}, false},
		{"get", "/metrics", "", rbac.Attributes{Verb: "get", Path: "/metrics"}, false},
		{"get", "/metrics", "x", rbac.Attributes{}, true},
		{"get", "pods/exec/x", "", rbac.Attributes{}, true},
		{"", "pods", "", rbac.Attributes{}, true},
	} {
		got, err := parseRequest(tc.verb, tc.resource, tc.name)
		if tc.bad {
			if err == nil || ExitCode(err) != ExitUsage {
				t.Errorf("parseRequest(%q, %q, %q): err %v, want a usage error", tc.verb, tc.resource, tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseRequest(%q, %q): %v", tc.verb, tc.resource, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("parseRequest(%q, %q) (-want +got):\n%s", tc.verb, tc.resource, d)
		}
	}
}

func runWhoCan(t *testing.T, g *Globals, args ...string) (string, error) {
	t.Helper()
	streams, out, _ := testStreams("")
	g.Streams = streams
	if g.Output == "" {
		g.Output = "table"
	}
	cmd := NewCmdAuditWhoCan(g)
	cmd.SetArgs(args)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.Err)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestWhoCanFiles(t *testing.T) {
	out, err := runWhoCan(t, &Globals{Cluster: cluster.ConfigFlags{Namespace: "team"}}, "create", "pods/exec", "web", "-f", "testdata/whocan/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "whocan/files.table.golden", []byte(out))
	out, err = runWhoCan(t, &Globals{Output: "json", Cluster: cluster.ConfigFlags{AllNamespaces: true}}, "list", "secrets", "-f", "testdata/whocan/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "whocan/files-all.json.golden", []byte(out))
	if _, err := runWhoCan(t, &Globals{Output: "sarif"}, "get", "pods", "-f", "testdata/whocan/rbac.yaml"); ExitCode(err) != ExitUsage {
		t.Errorf("-o sarif: err %v, want a usage error", err)
	}
}

// TestWhoCanLive asks the sandbox: the answer lists the seeded subjects and
// the bootstrap ones, the same on every run of the same Kubernetes version.
func TestWhoCanLive(t *testing.T) {
	env := sandboxtest.Get(t)
	cs := env.Clientset(t)
	ctx := context.Background()
	ns := "whocan-cli"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "secret-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "readers"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "secret-reader"},
		Subjects: []rbacv1.Subject{
			{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"},
			{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:serviceaccounts:ci"},
			{Kind: rbacv1.ServiceAccountKind, Name: "app", Namespace: ns},
		}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err := runWhoCan(t, &Globals{Cluster: cluster.ConfigFlags{Kubeconfig: env.Kubeconfig(), Namespace: ns}}, "get", "secrets")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "whocan/live.table.golden", []byte(out))
}
