package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// TestScanLiveCluster runs `shipshape scan` against the sandbox API server.
func TestScanLiveCluster(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs := env.Clientset(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cli-scan"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i)}}
		if _, err := cs.CoreV1().ConfigMaps("cli-scan").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	streams, out, errb := testStreams("")
	code := Main(ctx, []string{"scan", "--kubeconfig", env.Kubeconfig(), "-n", "cli-scan", "-o", "json"}, streams)
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errb)
	}
	var r finding.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Partial {
		t.Errorf("admin scan is partial: %+v", r.Warnings)
	}
	msgs := map[string]bool{}
	for _, f := range r.Findings {
		msgs[f.Check+" "+f.Message] = true
	}
	// kube-root-ca.crt is created in every namespace, so 4 ConfigMaps.
	for _, want := range []string{
		"inventory/namespaces namespace cli-scan: 5 objects",
		"inventory/objects ConfigMap (v1): 4",
	} {
		if !msgs[want] {
			t.Errorf("no finding %q in %v", want, msgs)
		}
	}
	var server string
	for m := range msgs {
		if strings.HasPrefix(m, "inventory/server ") {
			server = m
		}
	}
	if !strings.Contains(server, "Kubernetes v1.37.2") || !strings.Contains(server, env.APIServerURL()) {
		t.Errorf("server finding %q does not name v1.37.2 at %s", server, env.APIServerURL())
	}
}

// TestScanForbiddenIsPartial scans as a user who may read only namespaces
// and ConfigMaps: the report must say it is partial and name what was not
// read, and exit 0 because nothing reached --fail-on.
func TestScanForbiddenIsPartial(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs := env.Clientset(t)
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "cli-viewer"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces", "configmaps"}, Verbs: []string{"get", "list"}}},
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "cli-viewer"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "cli-viewer", APIGroup: "rbac.authorization.k8s.io"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cli-viewer"},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// A kubeconfig that impersonates the viewer with the admin's credentials.
	cfg, err := clientcmd.LoadFromFile(env.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, ai := range cfg.AuthInfos {
		ai.Impersonate = "cli-viewer"
	}
	kubeconfig := filepath.Join(t.TempDir(), "viewer.conf")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}

	streams, out, errb := testStreams("")
	code := Main(ctx, []string{"scan", "--kubeconfig", kubeconfig, "-A", "-o", "json"}, streams)
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errb)
	}
	var r finding.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !r.Partial {
		t.Fatal("scan by a restricted user is not marked partial")
	}
	var secrets bool
	for _, w := range r.Warnings {
		if w.Source == "secrets" && strings.Contains(w.Message, "forbidden") {
			secrets = true
		}
	}
	if !secrets {
		t.Errorf("no forbidden warning for secrets in %+v", r.Warnings)
	}
	if r.Summary.Objects == 0 {
		t.Error("the viewer read nothing; namespaces and ConfigMaps were allowed")
	}

	// The table says so too, for people.
	streams, out, _ = testStreams("")
	Main(ctx, []string{"scan", "--kubeconfig", kubeconfig, "-A"}, streams)
	if !strings.Contains(out.String(), "PARTIAL RESULT") {
		t.Errorf("table output does not flag the partial result:\n%s", out)
	}
}
