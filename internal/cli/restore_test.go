package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

// restoreTree is a small manifest tree; the Secret's value must never be
// printed.
const restoreTree = `apiVersion: v1
kind: Namespace
metadata: {name: cli-restore}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: cli-restore}
data: {mode: production}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: cli-restore}
stringData: {password: cli-secret-4711}
`

// TestRestoreAndDiffCommands drives restore --dry-run, restore, a second
// restore and diff through Main against the sandbox. diff is scoped with -n:
// other tests of the package create namespaces in the same sandbox.
func TestRestoreAndDiffCommands(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tree.yaml"), []byte(restoreTree), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(want int, args ...string) string {
		t.Helper()
		streams, out, errb := testStreams("")
		code := Main(ctx, append(args, "--kubeconfig", env.Kubeconfig()), streams)
		all := out.String() + errb.String()
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s", args, code, want, all)
		}
		for _, secret := range []string{"cli-secret-4711", "Y2xpLXNlY3JldC00NzEx"} {
			if strings.Contains(all, secret) {
				t.Fatalf("%v printed the secret value:\n%s", args, all)
			}
		}
		return out.String()
	}
	type item struct{ Action, Kind, Name string }
	actions := func(out string) map[string]string {
		t.Helper()
		var r struct{ Objects []item }
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		m := map[string]string{}
		for _, it := range r.Objects {
			m[it.Kind+"/"+it.Name] = it.Action
		}
		return m
	}

	got := actions(run(ExitOK, "restore", "--from", dir, "--dry-run", "-o", "json"))
	for _, k := range []string{"Namespace/cli-restore", "ConfigMap/settings", "Secret/db"} {
		if got[k] != "create" {
			t.Errorf("dry run %s: %q, want create", k, got[k])
		}
	}
	cs := env.Clientset(t)
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "cli-restore", metav1.GetOptions{}); err == nil {
		t.Fatal("the dry run created the namespace")
	}

	out := run(ExitOK, "restore", "--from", dir)
	if !strings.Contains(out, "3 create") {
		t.Errorf("restore output:\n%s", out)
	}
	got = actions(run(ExitOK, "restore", "--from", dir, "-o", "json"))
	for k, a := range got {
		if a != "unchanged" {
			t.Errorf("second restore %s: %s", k, a)
		}
	}

	out = run(ExitOK, "diff", "--from", dir, "-n", "cli-restore")
	if !strings.Contains(out, "0 only in the tree, 0 only live, 0 changed, 3 unchanged") {
		t.Errorf("diff after restore:\n%s", out)
	}

	// Drift: a value changed live, a key added to the Secret, an object only live.
	cm, err := cs.CoreV1().ConfigMaps("cli-restore").Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["mode"] = "debug"
	if _, err := cs.CoreV1().ConfigMaps("cli-restore").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	sec, err := cs.CoreV1().Secrets("cli-restore").Get(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data["password"] = []byte("changed-by-hand")
	if _, err := cs.CoreV1().Secrets("cli-restore").Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm.ObjectMeta = metav1.ObjectMeta{Name: "hand-made", Namespace: "cli-restore"}
	if _, err := cs.CoreV1().ConfigMaps("cli-restore").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out = run(ExitFindings, "diff", "--from", dir, "-n", "cli-restore")
	for _, want := range []string{
		"only live:\n  ConfigMap cli-restore/hand-made\n",
		"ConfigMap cli-restore/settings (" + filepath.Join(dir, "tree.yaml") + ":5)\n      ~ data.mode: \"production\" -> \"debug\"",
		"~ data.password: (secret value) -> (secret value)",
		"0 only in the tree, 1 only live, 2 changed, 1 unchanged",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "changed-by-hand") {
		t.Error("diff printed a secret value")
	}

	// The hand edits belong to another field manager: restore reports a
	// conflict, overwrites nothing, and exits 1.
	out = run(ExitError, "restore", "--from", dir)
	if !strings.Contains(out, "conflict") {
		t.Errorf("restore over hand edits:\n%s", out)
	}
	cm, err = cs.CoreV1().ConfigMaps("cli-restore").Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["mode"] != "debug" {
		t.Errorf("restore overwrote a hand edit: mode=%q", cm.Data["mode"])
	}
}

func TestRestoreFlags(t *testing.T) {
	var got *RestoreOptions
	g := &Globals{}
	cmd := NewCmdRestore(g, func(_ context.Context, o *RestoreOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--from", "b", "--identity", "k", "--dry-run", "--force-conflicts", "--kinds", "ConfigMap,Deployment.apps"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.From != "b" || got.Identity != "k" || !got.DryRun || !got.ForceConflicts || strings.Join(got.Kinds, "|") != "ConfigMap|Deployment.apps" || got.Concurrency != 16 {
		t.Errorf("options %+v", got)
	}
	streams, _, errb := testStreams("")
	if code := Main(context.Background(), []string{"restore"}, streams); code != ExitUsage {
		t.Errorf("restore without --from: exit %d, want %d (%s)", code, ExitUsage, errb)
	}
}

// TestBackupRestoreDiffDrillRoundTrip backs up the sandbox with
// `shipshape backup`, restores the backup into a second, fresh API server,
// and checks with diff and a second restore that everything came back; then
// drills the same backup into the second server.
func TestBackupRestoreDiffDrillRoundTrip(t *testing.T) {
	src := sandboxtest.Get(t)
	ctx := context.Background()
	dir := t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(want int, kubeconfig string, args ...string) string {
		t.Helper()
		streams, out, errb := testStreams("")
		code := Main(ctx, append(args, "--kubeconfig", kubeconfig), streams)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, want, out, errb)
		}
		if strings.Contains(out.String()+errb.String(), "seeded-password-719") {
			t.Fatalf("%v printed a secret value", args)
		}
		return out.String()
	}
	run(ExitOK, src.Kubeconfig(), "restore", "--from", "../restore/testdata/estate.yaml")
	bk := filepath.Join(dir, "backup")
	run(ExitOK, src.Kubeconfig(), "backup", "-A", "--out", bk, "--recipient", id.Recipient().String())

	dst, err := sandboxtest.Start(ctx, sandboxtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dst.Stop() })

	run(ExitUsage, dst.Kubeconfig(), "restore", "--from", bk) // encrypted Secrets need --identity
	out := run(ExitOK, dst.Kubeconfig(), "restore", "--from", bk, "--identity", keyFile)
	if !strings.Contains(out, "create") {
		t.Errorf("restore created nothing:\n%s", out)
	}
	out = run(ExitOK, dst.Kubeconfig(), "diff", "--from", bk, "--identity", keyFile)
	if !strings.Contains(out, "0 only in the tree, 0 only live, 0 changed,") {
		t.Errorf("diff after the restore:\n%s", out)
	}
	out = run(ExitOK, dst.Kubeconfig(), "restore", "--from", bk, "--identity", keyFile, "-o", "json")
	var r struct {
		Objects []struct{ Action, Kind, Name string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Objects) < 31 {
		t.Errorf("the backup restored only %d objects", len(r.Objects))
	}
	for _, o := range r.Objects {
		if o.Action != "unchanged" {
			t.Errorf("second restore: %s %s/%s", o.Action, o.Kind, o.Name)
		}
	}
	sec, err := dst.Clientset(t).CoreV1().Secrets("shop").Get(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(sec.Data["password"]) != "seeded-password-719" {
		t.Error("the restored Secret lost its decrypted value")
	}

	streams, dout, derr := testStreams("")
	if code := Main(ctx, []string{"drill", "--from", bk, "--identity", keyFile, "--target-kubeconfig", dst.Kubeconfig()}, streams); code != ExitOK {
		t.Fatalf("drill: exit %d\n%s%s", code, dout, derr)
	}
	if !strings.Contains(dout.String(), "PASSED") {
		t.Errorf("drill output:\n%s", dout)
	}
}
