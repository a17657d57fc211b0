package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func TestSkipReason(t *testing.T) {
	selector := map[string]bool{"shop/web": true}
	for _, tc := range []struct {
		name, yaml, want string
		derived          bool
	}{
		{"replicaset of a deployment", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u, controller: true}]}", "controller-owned", false},
		{"derived kept on request", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u, controller: true}]}", "", true},
		{"bare pod kept", "apiVersion: v1\nkind: Pod\nmetadata: {name: debug, namespace: shop}", "", false},
		{"mirror pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: etcd-n1, namespace: kube-system, annotations: {kubernetes.io/config.mirror: x}}", "mirror-pod", false},
		{"endpoints of selector service", "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web, namespace: shop}", "managed-endpoints", false},
		{"endpoints of selector-less service", "apiVersion: v1\nkind: Endpoints\nmetadata: {name: db, namespace: shop}", "", false},
		{"managed endpointslice", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-x, namespace: shop, labels: {endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}}", "managed-endpoints", false},
		{"core event", "apiVersion: v1\nkind: Event\nmetadata: {name: e, namespace: shop}", "ephemeral", false},
		{"events.k8s.io event", "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: e, namespace: shop}", "ephemeral", false},
		{"lease", "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: l, namespace: shop}", "ephemeral", false},
		{"node", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}", "node-bound", false},
		{"root ca configmap", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt, namespace: shop}", "control-plane-default", false},
		{"default sa", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: shop}", "control-plane-default", false},
		{"kube-system namespace", "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}", "control-plane-default", false},
		{"kubernetes service", "apiVersion: v1\nkind: Service\nmetadata: {name: kubernetes, namespace: default}", "control-plane-default", false},
		{"bootstrap rbac", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: admin, labels: {kubernetes.io/bootstrapping: rbac-defaults}}", "control-plane-default", false},
		{"user clusterrole", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: mine}", "", false},
		{"system priority class", "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: system-node-critical}", "control-plane-default", false},
		{"autoupdated flowschema", "apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema\nmetadata: {name: global-default, annotations: {apf.kubernetes.io/autoupdate-spec: \"true\"}}", "control-plane-default", false},
		{"automanaged apiservice", "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.apps, labels: {kube-aggregator.kubernetes.io/automanaged: onstart}}", "control-plane-default", false},
		{"user apiservice", "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1beta1.metrics.k8s.io}", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := skipReason(obj(t, tc.yaml), tc.derived, selector); got != tc.want {
				t.Errorf("skipReason = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCleanService(t *testing.T) {
	in := obj(t, `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  uid: abc
  resourceVersion: "7"
  creationTimestamp: "2026-01-01T00:00:00Z"
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}
  managedFields:
  - manager: kubectl
    operation: Apply
    fieldsType: FieldsV1
    fieldsV1: {"f:spec": {"f:ports": {"k:{\"port\":443,\"protocol\":\"TCP\"}": {"f:nodePort": {}}}}}
spec:
  type: NodePort
  clusterIP: 10.0.0.7
  clusterIPs: [10.0.0.7]
  ports:
  - {port: 80, protocol: TCP, nodePort: 31234}
  - {port: 443, protocol: TCP, nodePort: 30443}
status: {loadBalancer: {}}
`)
	want := obj(t, `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  ports:
  - {port: 80, protocol: TCP}
  - {port: 443, protocol: TCP, nodePort: 30443}
`)
	if diff := cmp.Diff(want.Object, clean(in).Object); diff != "" {
		t.Errorf("clean (-want +got):\n%s", diff)
	}
}

func TestRedactManifest(t *testing.T) {
	in := "---\n# Source: c/templates/s.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2\n---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n"
	got := redactManifest(in)
	if strings.Contains(got, "hunter2") {
		t.Errorf("secret value kept:\n%s", got)
	}
	for _, want := range []string{"# Source: c/templates/s.yaml", "kind: Secret", "# Source: c/templates/cm.yaml", "  a: b"} {
		if !strings.Contains(got, want) {
			t.Errorf("lost %q:\n%s", want, got)
		}
	}
}

func TestObjectPath(t *testing.T) {
	for _, tc := range []struct{ group, kind, ns, name, want string }{
		{"", "ConfigMap", "shop", "cfg", "namespaces/shop/core/ConfigMap/cfg.yaml"},
		{"rbac.authorization.k8s.io", "ClusterRole", "", "system:aggregate-to-view", "cluster/rbac.authorization.k8s.io/ClusterRole/system:aggregate-to-view.yaml"},
		{"x.io", "Thing", "", "../../etc/passwd", "cluster/x.io/Thing/..%2F..%2Fetc%2Fpasswd.yaml"},
		{"x.io", "Thing", "", "..", "cluster/x.io/Thing/%2E%2E.yaml"},
	} {
		if got := ObjectPath(tc.group, tc.kind, tc.ns, tc.name); got != tc.want {
			t.Errorf("ObjectPath(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// testSnapshot is a small live-like snapshot with a Secret.
func testSnapshot(t *testing.T, extra ...string) *snapshot.Snapshot {
	docs := append([]string{
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, uid: n1}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop, uid: c1}\ndata: {a: b}",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop, uid: s1}\ntype: Opaque\ndata: {password: aHVudGVyMg==}",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, uid: d1}\nspec: {template: {spec: {containers: [{name: web, image: nginx, envFrom: [{secretRef: {name: db}}]}]}}}",
	}, extra...)
	s := &snapshot.Snapshot{Source: snapshot.SourceCluster, Server: &snapshot.Server{Host: "https://k", GitVersion: "v1.37.2"}}
	for _, d := range docs {
		s.Objects = append(s.Objects, snapshot.Object{Unstructured: obj(t, d)})
	}
	s.Sort()
	return s
}

func testKey(t testing.TB) (*age.X25519Identity, Recipient) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRecipient(id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	return id, r
}

func TestMissingRecipient(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b")
	_, err := Write(context.Background(), testSnapshot(t), WriteOptions{Out: out})
	if !errors.Is(err, ErrNoRecipient) {
		t.Fatalf("err = %v, want ErrNoRecipient", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("something was written: %v", err)
	}
	res, err := Write(context.Background(), testSnapshot(t), WriteOptions{Out: out, ExcludeSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Counts["core/Secret"] != 0 || res.Skipped["excluded-secret"] != 1 {
		t.Errorf("counts %v skipped %v", res.Manifest.Counts, res.Skipped)
	}
	// Verify without --exclude-secrets knowledge still finds the missing Secret the Deployment needs.
	rep, err := Verify(context.Background(), out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Reason, "Secret shop/db") {
		t.Errorf("problems = %v", rep.Problems)
	}
}

func TestBadRecipients(t *testing.T) {
	for _, s := range []string{"", "AGE-SECRET-KEY-1QQQQ", "age1notakey", "ssh-ed25519 AAAAnotbase64"} {
		if _, err := ParseRecipient(s); err == nil {
			t.Errorf("ParseRecipient(%q) = nil error", s)
		} else if strings.Contains(err.Error(), "AGE-SECRET-KEY-1QQQQ") {
			t.Errorf("error echoes a secret key: %v", err)
		}
	}
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte("# team\n\nage1bad\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseRecipientsFile(p); err == nil || !strings.Contains(err.Error(), p+":3:") {
		t.Errorf("err = %v, want file:line", err)
	}
}

func tarball(t *testing.T, entries map[string]string, typ byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range entries {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: typ}
		if typ == tar.TypeSymlink {
			h.Size, h.Linkname, body = 0, "/etc/passwd", ""
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	zw.Close()
	p := filepath.Join(t.TempDir(), "b.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadBadInput(t *testing.T) {
	ctx := context.Background()
	id, r := testKey(t)
	good := filepath.Join(t.TempDir(), "good.tar.gz")
	if _, err := Write(ctx, testSnapshot(t), WriteOptions{Out: good, Recipients: []Recipient{r}}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "cut.tar.gz")
	if err := os.WriteFile(truncated, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	notGzip := filepath.Join(t.TempDir(), "x.tar.gz")
	if err := os.WriteFile(notGzip, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong, _ := age.GenerateX25519Identity()

	for _, tc := range []struct {
		name, from string
		ids        []age.Identity
		want       string
	}{
		{"truncated tarball", truncated, nil, "corrupt archive"},
		{"not gzip", notGzip, nil, "not a gzip file"},
		{"dot-dot entry", tarball(t, map[string]string{"cluster/../../evil.yaml": "x"}, tar.TypeReg), nil, `escapes the backup`},
		{"absolute entry", tarball(t, map[string]string{"/etc/evil.yaml": "x"}, tar.TypeReg), nil, "absolute path"},
		{"symlink entry", tarball(t, map[string]string{"cluster/link.yaml": ""}, tar.TypeSymlink), nil, "only regular files"},
		{"no manifest", tarball(t, map[string]string{"cluster/core/Namespace/a.yaml": "x"}, tar.TypeReg), nil, "incomplete backup"},
		{"wrong identity", good, []age.Identity{wrong}, "wrong --identity"},
		{"missing", filepath.Join(t.TempDir(), "nope"), nil, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(ctx, tc.from, Options{Identities: tc.ids})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		tree, err := Load(ctx, good, Options{Identities: []age.Identity{id}})
		if err != nil {
			t.Fatal(err)
		}
		if len(tree.Problems) > 0 || len(tree.Items) != 4 {
			t.Fatalf("problems %v, %d items", tree.Problems, len(tree.Items))
		}
	})
}

func TestTamperedFileIsAProblem(t *testing.T) {
	ctx := context.Background()
	id, r := testKey(t)
	out := filepath.Join(t.TempDir(), "b")
	if _, err := Write(ctx, testSnapshot(t), WriteOptions{Out: out, Recipients: []Recipient{r}}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(out, "namespaces", "shop", "core", "ConfigMap", "cfg.yaml")
	if err := os.WriteFile(p, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, "namespaces", "shop", "core", "Secret", "db.data.age")); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(ctx, out, Options{Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.String())
	}
	want := []string{
		"namespaces/shop/core/ConfigMap/cfg.yaml: content differs from its checksum in manifest.yaml",
		"namespaces/shop/core/Secret/db.data.age: listed in manifest.yaml but missing",
		"namespaces/shop/core/Secret/db.yaml: encrypted data file db.data.age is missing",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestUnchangedSecretKeepsCiphertext: with the identity, a second backup
// reuses the HMAC key; a changed Secret alone is encrypted again.
func TestUnchangedSecretKeepsCiphertext(t *testing.T) {
	ctx := context.Background()
	id, r := testKey(t)
	out := filepath.Join(t.TempDir(), "b")
	wo := WriteOptions{Out: out, Recipients: []Recipient{r}, Identities: []age.Identity{id}}
	if _, err := Write(ctx, testSnapshot(t), wo); err != nil {
		t.Fatal(err)
	}
	dataFile := filepath.Join(out, "namespaces", "shop", "core", "Secret", "db.data.age")
	before, _ := os.ReadFile(dataFile)
	res, err := Write(ctx, testSnapshot(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: other, namespace: shop, uid: s2}\ndata: {k: dg==}"), wo)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(dataFile)
	if !bytes.Equal(before, after) || res.Reencrypted != 1 {
		t.Errorf("unchanged Secret re-encrypted (same bytes: %v), %d files encrypted afresh, want 1", bytes.Equal(before, after), res.Reencrypted)
	}
	// A changed value gets a new ciphertext.
	changed := testSnapshot(t)
	for _, o := range changed.Objects {
		if o.GetKind() == "Secret" {
			o.Object["data"] = map[string]any{"password": "bmV3"}
		}
	}
	if _, err := Write(ctx, changed, wo); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(dataFile); bytes.Equal(before, now) {
		t.Error("changed Secret kept its old ciphertext")
	}
}

// TestKilledMidway kills a backup process after a few files and checks that
// the previous backup is untouched and the partial one is flagged.
func TestKilledMidway(t *testing.T) {
	if dir := os.Getenv("SHIPSHAPE_BACKUP_KILL_OUT"); dir != "" {
		_, r := testKey(t)
		_, _ = Write(context.Background(), testSnapshot(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new, namespace: shop, uid: c2}"),
			WriteOptions{Out: dir, Recipients: []Recipient{r}, afterFile: func(n int) {
				if n == 3 {
					_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
			}})
		t.Fatal("not killed")
	}
	ctx := context.Background()
	id, r := testKey(t)
	parent := t.TempDir()
	for _, name := range []string{"b", "b.tar.gz"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(parent, name)
			if _, err := Write(ctx, testSnapshot(t), WriteOptions{Out: out, Recipients: []Recipient{r}}); err != nil {
				t.Fatal(err)
			}
			before := snapshotFiles(t, out)
			cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidway$")
			cmd.Env = append(os.Environ(), "SHIPSHAPE_BACKUP_KILL_OUT="+out)
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child: %v, want killed", err)
			}
			if diff := cmp.Diff(before, snapshotFiles(t, out)); diff != "" {
				t.Errorf("previous backup changed:\n%s", diff)
			}
			partials, _ := filepath.Glob(filepath.Join(parent, "."+name+".partial-*"))
			if len(partials) != 1 {
				t.Fatalf("partial backups beside the target: %v", partials)
			}
			if _, err := Load(ctx, partials[0], Options{}); err == nil {
				t.Errorf("the partial backup %s loads without error", partials[0])
			}
			if _, err := Load(ctx, out, Options{Identities: []age.Identity{id}}); err != nil {
				t.Errorf("previous backup: %v", err)
			}
			os.RemoveAll(partials[0])
		})
	}
}

func snapshotFiles(t *testing.T, p string) map[string]string {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() {
		b, _ := os.ReadFile(p)
		return map[string]string{".": sha(b)}
	}
	out := map[string]string{}
	for rel, b := range treeBytes(t, p) {
		out[rel] = sha(b)
	}
	return out
}

func TestGitCheckoutKept(t *testing.T) {
	ctx := context.Background()
	_, r := testKey(t)
	out := filepath.Join(t.TempDir(), "b")
	if _, err := Write(ctx, testSnapshot(t), WriteOptions{Out: out, Recipients: []Recipient{r}}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(out, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(ctx, testSnapshot(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new, namespace: shop, uid: c2}"), WriteOptions{Out: out, Recipients: []Recipient{r}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, ".git", "HEAD")); err != nil {
		t.Errorf(".git lost: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "namespaces", "shop", "core", "ConfigMap", "new.yaml")); err != nil {
		t.Errorf("new object not written: %v", err)
	}
}

func TestRefusesForeignTarget(t *testing.T) {
	ctx := context.Background()
	_, r := testKey(t)
	dir := t.TempDir()
	foreign := filepath.Join(dir, "notes")
	if err := os.MkdirAll(filepath.Join(foreign, "cluster"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(foreign, "cluster", "plan.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "old.tar.gz")
	if err := os.WriteFile(file, []byte("not a backup"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{foreign, file} {
		if _, err := Write(ctx, testSnapshot(t), WriteOptions{Out: out, Recipients: []Recipient{r}}); err == nil || !strings.Contains(err.Error(), "choose another --out") {
			t.Errorf("%s: err = %v", out, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(foreign, "cluster", "plan.txt")); err != nil || string(b) != "mine" {
		t.Errorf("foreign file touched: %q %v", b, err)
	}
	if b, _ := os.ReadFile(file); string(b) != "not a backup" {
		t.Errorf("foreign tarball replaced")
	}
	// An empty directory (or one with only a README) is fine.
	empty := filepath.Join(dir, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(empty, "README.md"), []byte("backups"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(ctx, testSnapshot(t), WriteOptions{Out: empty, Recipients: []Recipient{r}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(empty, "README.md")); string(b) != "backups" {
		t.Errorf("README lost")
	}
}

// TestCleanLeavesInputAlone: clean copies only what it changes, and must
// change nothing of the snapshot's object (the inventory reads it after).
func TestCleanLeavesInputAlone(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"configmap", `apiVersion: v1
kind: ConfigMap
metadata:
  name: app
  namespace: shop
  uid: abc
  generateName: app-
  resourceVersion: "7"
  labels: {}
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}", team: shop}
  ownerReferences: [{apiVersion: v1, kind: Foo, name: x, uid: y}]
data: {a: b}
`, `apiVersion: v1
kind: ConfigMap
metadata:
  name: app
  namespace: shop
  annotations: {team: shop, backup.shipshape.dev/owners: '[{"apiVersion":"v1","kind":"Foo","name":"x"}]'}
data: {a: b}
`},
		{"owned-by-controller", `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d8f
  namespace: shop
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true, blockOwnerDeletion: true}
  - {apiVersion: example.com/v1, kind: Shop, name: main, uid: u2, controller: false}
spec: {replicas: 2}
`, `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d8f
  namespace: shop
  annotations:
    backup.shipshape.dev/owners: '[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","controller":true,"blockOwnerDeletion":true},{"apiVersion":"example.com/v1","kind":"Shop","name":"main"}]'
spec: {replicas: 2}
`},
		{"stale-backup-annotations", `apiVersion: v1
kind: ConfigMap
metadata:
  name: applied-from-a-tree
  namespace: shop
  annotations:
    team: shop
    backup.shipshape.dev/owners: '[{"apiVersion":"v1","kind":"ConfigMap","name":"old"}]'
    backup.shipshape.dev/data-hmac: "00"
data: {a: b}
`, `apiVersion: v1
kind: ConfigMap
metadata:
  name: applied-from-a-tree
  namespace: shop
  annotations: {team: shop}
data: {a: b}
`},
		{"token-secret", `apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: tok
  namespace: shop
  annotations: {deployment.kubernetes.io/revision: "3"}
data: {token: c2VjcmV0}
`, `apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata: {name: tok, namespace: shop}
`},
		{"node-status", `apiVersion: v1
kind: Node
metadata: {name: n1, uid: u}
status: {capacity: {cpu: "4"}}
`, `apiVersion: v1
kind: Node
metadata: {name: n1}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := obj(t, tc.yaml)
			before := in.DeepCopy()
			got := clean(in)
			if diff := cmp.Diff(obj(t, tc.want).Object, got.Object); diff != "" {
				t.Errorf("clean (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before.Object, in.Object); diff != "" {
				t.Errorf("clean changed its input (-before +after):\n%s", diff)
			}
			// What the writer does next to a Secret's copy must not reach the input either.
			delete(got.Object, "data")
			ann := got.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann[AnnotationDataHMAC] = "x"
			got.SetAnnotations(ann)
			if diff := cmp.Diff(before.Object, in.Object); diff != "" {
				t.Errorf("editing clean's result changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

// backupWithFault backs up into a directory, then backs a changed cluster
// up into it while fault runs on the partial tree after the n-th file, and
// returns the second backup's error. It checks that the first backup stays
// as it was and still loads.
func backupWithFault(t *testing.T, n int, fault func(partial string)) error {
	t.Helper()
	ctx := context.Background()
	id, r := testKey(t)
	parent := t.TempDir()
	out := filepath.Join(parent, "b")
	if _, err := Write(ctx, testSnapshot(t), WriteOptions{Out: out, Recipients: []Recipient{r}}); err != nil {
		t.Fatal(err)
	}
	before := snapshotFiles(t, out)
	_, err := Write(ctx, testSnapshot(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new, namespace: shop, uid: c2}"),
		WriteOptions{Out: out, Recipients: []Recipient{r}, afterFile: func(k int) {
			if k != n {
				return
			}
			partials, _ := filepath.Glob(filepath.Join(parent, ".b.partial-*"))
			if len(partials) != 1 {
				t.Errorf("partial trees: %v", partials)
				return
			}
			fault(partials[0])
		}})
	if diff := cmp.Diff(before, snapshotFiles(t, out)); diff != "" {
		t.Errorf("previous backup changed:\n%s", diff)
	}
	if _, err := Load(ctx, out, Options{Identities: []age.Identity{id}}); err != nil {
		t.Errorf("previous backup: %v", err)
	}
	return err
}

// TestWriteFailureSurfaces: a file the writer cannot create fails the
// backup with the path and where the partial tree is, and the previous
// backup stays as it was.
func TestWriteFailureSurfaces(t *testing.T) {
	var broke string
	err := backupWithFault(t, 1, func(partial string) {
		// Pull the partial tree away and put a file in its place: every
		// later file fails to be created.
		broke = partial
		_ = os.RemoveAll(broke)
		_ = os.WriteFile(broke, []byte("in the way\n"), 0o600)
	})
	if err == nil {
		t.Fatal("the backup succeeded although its files could not be written")
	}
	if broke == "" || !strings.Contains(err.Error(), "partial backup left in "+broke) {
		t.Errorf("error %q does not say where the partial backup is (%s)", err, broke)
	}
}

// TestTreeChangedMidway: a file removed from the partial tree while the
// backup is written (a cleanup job, a person) fails the backup instead of
// renaming a tree into place that lacks a file its manifest lists.
func TestTreeChangedMidway(t *testing.T) {
	var removed string
	err := backupWithFault(t, 2, func(partial string) {
		_ = filepath.WalkDir(partial, func(p string, d fs.DirEntry, err error) error {
			if err == nil && removed == "" && d.Type().IsRegular() {
				removed = p
				return os.Remove(p)
			}
			return nil
		})
	})
	if removed == "" {
		t.Fatal("no file was removed: the test proves nothing")
	}
	if err == nil || !strings.Contains(err.Error(), "something changed it") {
		t.Fatalf("err = %v, want the backup to fail on the changed tree", err)
	}
}
