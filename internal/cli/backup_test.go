package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

func TestBackupFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no out", []string{"backup", "--exclude-secrets"}, ExitUsage, "--out is required"},
		{"no recipient", []string{"backup", "--out", "x"}, ExitUsage, "no recipient"},
		{"bad recipient", []string{"backup", "--out", "x", "--recipient", "AGE-SECRET-KEY-1ABCDEFGHIJKLMNOPQRSTUVWXYZ"}, ExitUsage, "want an age public key"},
		{"missing recipients file", []string{"backup", "--out", "x", "--recipients-file", "/nonexistent/keys"}, ExitUsage, "--recipients-file"},
		{"verify without from", []string{"backup", "verify"}, ExitUsage, "--from is required"},
		{"verify missing", []string{"backup", "verify", "--from", "/nonexistent/backup"}, ExitError, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams, _, errb := testStreams("")
			code := Main(context.Background(), tc.args, streams)
			if code != tc.code || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errb, tc.code, tc.want)
			}
			if strings.Contains(errb.String(), "AGE-SECRET-KEY-1ABCDEFGHIJ") {
				t.Errorf("stderr echoes a secret key")
			}
		})
	}
}

// TestBackupCommand runs `shipshape backup` and `backup verify` against the sandbox.
func TestBackupCommand(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs := env.Clientset(t)
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "cli-backup-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{}) })
	const value = "cli-backup-secret-value-7731"
	if _, err := cs.CoreV1().Secrets(ns.Name).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}, StringData: map[string]string{"v": value}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(key, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "backup")

	streams, stdout, errb := testStreams("")
	code := Main(ctx, []string{"backup", "--kubeconfig", env.Kubeconfig(), "--out", out, "--recipient", id.Recipient().String(), "--identity", key}, streams)
	if code != ExitOK {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout, errb)
	}
	if !strings.Contains(stdout.String(), "backup written: "+out) {
		t.Errorf("stdout: %s", stdout)
	}
	if strings.Contains(stdout.String()+errb.String(), value) {
		t.Error("a secret value was printed")
	}
	if _, err := os.Stat(filepath.Join(out, "namespaces", ns.Name, "core", "Secret", "s.data.age")); err != nil {
		t.Error(err)
	}

	streams, stdout, errb = testStreams("")
	code = Main(ctx, []string{"backup", "verify", "--from", out, "--identity", key}, streams)
	if code != ExitOK || !strings.Contains(stdout.String(), "ok: complete") {
		t.Fatalf("verify: exit %d\n%s%s", code, stdout, errb)
	}

	// A damaged file makes verify exit 3 and name it.
	cm := filepath.Join(out, "cluster", "core", "Namespace", ns.Name+".yaml")
	if err := os.WriteFile(cm, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	streams, stdout, _ = testStreams("")
	code = Main(ctx, []string{"backup", "verify", "--from", out}, streams)
	if code != ExitFindings || !strings.Contains(stdout.String(), "cluster/core/Namespace/"+ns.Name+".yaml: content differs") {
		t.Fatalf("verify damaged: exit %d\n%s", code, stdout)
	}
}
