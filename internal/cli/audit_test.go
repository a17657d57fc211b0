package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

// TestAuditGolden runs whole `shipshape audit` command lines.
func TestAuditGolden(t *testing.T) {
	estate := "testdata/audit/estate.yaml"
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"audit-exempt.table", []string{"audit", "-f", estate, "--exemptions", "testdata/audit/exemptions.yaml", "--show-exempt"}, ExitFindings},
		{"audit.json", []string{"audit", "-f", estate, "-o", "json", "--fail-on", "none"}, ExitOK},
		{"audit-check.markdown", []string{"audit", "-f", estate, "--check", "audit/privileged,audit/host-path", "--show-exempt", "-o", "markdown", "--fail-on", "critical"}, ExitFindings},
		{"audit-fix-dry-run.diff", []string{"audit", "fix", "--dry-run", "testdata/audit/fixme.yaml"}, ExitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams, out, errb := testStreams("")
			code := Main(context.Background(), tc.args, streams)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tc.wantCode, errb)
			}
			if strings.Contains(errb.String(), "error:") {
				t.Errorf("stderr has an error: %s", errb)
			}
			if strings.Contains(out.String(), "not-for-your-eyes") {
				t.Error("the report shows a secret value")
			}
			checkGolden(t, tc.name+".golden", out.String())
		})
	}
}

func TestAuditFlags(t *testing.T) {
	streams, _, _ := testStreams("")
	var got *AuditOptions
	root := newRootCmd(streams, runners{})
	for _, c := range root.Commands() {
		if c.Name() == "audit" {
			root.RemoveCommand(c)
		}
	}
	g := &Globals{Streams: streams, Output: "table", FailOn: "high"}
	cmd := NewCmdAudit(g, func(_ context.Context, o *AuditOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--chart", "charts/web", "--values", "a.yaml", "--set", "x=1", "--set", "y=2", "--exemptions", "ex.yaml", "--show-exempt", "--check", "audit/seccomp"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := AuditOptions{Globals: g, Charts: []string{"charts/web"}, ValuesFiles: []string{"a.yaml"}, Set: []string{"x=1", "y=2"},
		Exemptions: "ex.yaml", ShowExempt: true, Checks: []string{"audit/seccomp"}, MaxFileSize: "256Mi", MaxDocumentSize: "64Mi"}
	if diff := cmp.Diff(want, *got, cmpopts.IgnoreFields(Globals{}, "Streams")); diff != "" {
		t.Errorf("options (-want +got)\n%s", diff)
	}
}

func TestAuditUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"audit", "--chart", "x", "-n", "shop"},
		{"audit", "--set", "a=b", "-f", "y.yaml"},
		{"audit", "fix"},
		{"audit", "--check", "audit/nope", "-f", "y.yaml"},
	} {
		streams, _, _ := testStreams("")
		if code := Main(context.Background(), args, streams); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
	}
	streams, _, errb := testStreams("")
	if code := Main(context.Background(), []string{"audit", "-f", "testdata/audit/estate.yaml", "--exemptions", "testdata/audit/nope.yaml"}, streams); code != ExitError || !strings.Contains(errb.String(), "nope.yaml") {
		t.Errorf("missing exemptions file: exit %d, stderr %q", code, errb)
	}
}

// TestAuditChart renders the example chart and audits it.
func TestAuditChart(t *testing.T) {
	chart := filepath.Join("..", "..", "examples", "charts", "notifier")
	if _, err := os.Stat(chart); err != nil {
		t.Skip("example chart not present")
	}
	streams, out, errb := testStreams("")
	code := Main(context.Background(), []string{"audit", "--chart", chart, "--set", "replicaCount=3", "--set", "smtp.password=s3cr3t-value", "-o", "json", "--fail-on", "none"}, streams)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if strings.Contains(out.String(), "s3cr3t-value") {
		t.Error("chart audit shows a secret value")
	}
	for _, want := range []string{`"check": "audit/read-only-root-fs"`, "templates/deployment.yaml"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("chart audit lacks %s:\n%s", want, out)
		}
	}
}

// TestAuditFixWrites fixes a copy of a file in place, keeping its comments,
// and a second run changes nothing.
func TestAuditFixWrites(t *testing.T) {
	src, err := os.ReadFile("testdata/audit/fixme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fixme.yaml")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	streams, _, errb := testStreams("")
	if code := Main(context.Background(), []string{"audit", "fix", path, filepath.Join(t.TempDir(), "missing.yaml")}, streams); code != ExitError {
		t.Errorf("exit %d, want %d (one file missing): %s", code, ExitError, errb)
	}
	fixed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(fixed), "readOnlyRootFilesystem: true") || !strings.Contains(string(fixed), "# keep me") {
		t.Errorf("fixed file:\n%s", fixed)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	streams, out, _ := testStreams("")
	if code := Main(context.Background(), []string{"audit", "fix", "--dry-run", path}, streams); code != ExitOK || strings.Contains(out.String(), "+++") {
		t.Errorf("second run: exit %d, output %s", code, out)
	}
}

// TestAuditLiveCluster audits a namespace of the sandbox: the Deployment's
// problems are reported once, on the Deployment, not again on the
// ReplicaSet and Pods the controllers made from it; the namespace hygiene
// checks judge the namespace; the annotation exemption holds.
func TestAuditLiveCluster(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs := env.Clientset(t)
	ns := "cli-audit"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	yes := true
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Annotations: map[string]string{
			"shipshape.dev/exempt": "audit/image-tag", "shipshape.dev/exempt-reason": "demo image"}},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: "registry.example/web:latest",
					SecurityContext: &corev1.SecurityContext{Privileged: &yes},
				}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sandboxtest.Eventually(t, time.Minute, "ReplicaSet of web", func() error {
		rs, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(rs.Items) == 0 {
			return fmt.Errorf("no ReplicaSet yet")
		}
		return nil
	})
	streams, out, errb := testStreams("")
	code := Main(ctx, []string{"audit", "--kubeconfig", env.Kubeconfig(), "-n", ns, "-o", "json", "--show-exempt"}, streams)
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d: %s", code, ExitFindings, errb)
	}
	var report struct {
		Findings []struct {
			Check  string `json:"check"`
			Object struct{ Kind, Name string }
		} `json:"findings"`
		Exempted []struct {
			Check string `json:"check"`
		} `json:"exempted"`
	}
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatal(err)
	}
	privileged, nsChecks := 0, 0
	for _, f := range report.Findings {
		if f.Object.Kind == "ReplicaSet" || f.Object.Kind == "Pod" {
			t.Errorf("finding on an owned %s: %s", f.Object.Kind, f.Check)
		}
		if f.Check == "audit/privileged" && f.Object.Kind == "Deployment" {
			privileged++
		}
		if f.Check == "audit/namespace-network-policy" || f.Check == "audit/namespace-quota" {
			nsChecks++
		}
		if f.Check == "audit/image-tag" {
			t.Error("the annotation exemption did not hold on a live object")
		}
	}
	if privileged != 1 || nsChecks != 2 {
		t.Errorf("privileged findings %d (want 1), namespace findings %d (want 2):\n%s", privileged, nsChecks, out)
	}
	if len(report.Exempted) != 1 || report.Exempted[0].Check != "audit/image-tag" {
		t.Errorf("exempted = %+v, want the image-tag finding", report.Exempted)
	}
}
