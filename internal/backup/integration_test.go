package backup

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/release/common"
	rspb "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// Secret values seeded into the sandbox; none may appear in a backup.
var (
	binarySecret = []byte{0x00, 0xff, 0x10, 0x80, 's', 'e', 'c', 'r', 'e', 't', 0x01, 0xfe}
	tokenSecret  = "tok-9f8e7d6c5b4a-never-in-plaintext"
	helmPassword = "helm-db-password-Zq81xX"
)

type seeded struct {
	ns    string
	kinds []string // "group/Kind" the backup must hold
}

// seed creates at least 30 kinds in a fresh namespace of the sandbox.
func seed(t *testing.T, cfg *rest.Config) seeded {
	t.Helper()
	ctx := context.Background()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 200, 400
	cs := kubernetes.NewForConfigOrDie(cfg)
	dc := dynamic.NewForConfigOrDie(cfg)
	nsObj, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bk-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns := nsObj.Name
	s := seeded{ns: ns, kinds: []string{"core/Namespace", "core/Secret", ns + ".example.com/Widget"}}

	raw, err := os.ReadFile("testdata/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	for _, doc := range strings.Split(strings.ReplaceAll(string(raw), "NS", ns), "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("seed: %v", err)
		}
		u := &unstructured.Unstructured{Object: m}
		gvk := u.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("seed %s: %v", gvk, err)
		}
		var ri dynamic.ResourceInterface = dc.Resource(mapping.Resource)
		if u.GetNamespace() != "" {
			ri = dc.Resource(mapping.Resource).Namespace(u.GetNamespace())
		}
		if _, err := ri.Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("seed %s %s: %v", gvk.Kind, u.GetName(), err)
		}
		t.Cleanup(func() { _ = ri.Delete(context.Background(), u.GetName(), metav1.DeleteOptions{}) })
		if gvk.Kind != "Lease" {
			s.kinds = append(s.kinds, groupDir(gvk.Group)+"/"+gvk.Kind)
		}
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })

	// Secrets: binary data, and a token referenced by the Deployment.
	for _, sec := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "blob", Namespace: ns}, Data: map[string][]byte{"key.bin": binarySecret}},
		{ObjectMeta: metav1.ObjectMeta{Name: "app-secret", Namespace: ns, Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": `{"stringData":{"token":"` + tokenSecret + `"}}`}},
			StringData: map[string]string{"token": tokenSecret}},
	} {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// A custom resource, once its CRD is served.
	widgets := schema.GroupVersionResource{Group: ns + ".example.com", Version: "v1", Resource: "widgets"}
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": ns + ".example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w1", "namespace": ns},
		"spec":     map[string]any{"size": int64(3)},
	}}
	sandboxtest.Eventually(t, 30*time.Second, "create a Widget", func() error {
		_, err := dc.Resource(widgets).Namespace(ns).Create(ctx, w, metav1.CreateOptions{})
		return err
	})

	// Helm release records written by Helm's own storage driver.
	d := driver.NewSecrets(cs.CoreV1().Secrets(ns))
	for rev, status := range []common.Status{common.StatusSuperseded, common.StatusDeployed} {
		rel := &rspb.Release{
			Name: "shop", Namespace: ns, Version: rev + 1,
			Info:     &rspb.Info{Status: status},
			Config:   map[string]any{"db": map[string]any{"password": helmPassword}},
			Manifest: "---\n# Source: shop/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-db\nstringData:\n  password: " + helmPassword + "\n",
			Chart: &chart.Chart{Metadata: &chart.Metadata{Name: "shop", Version: "1.2.3", AppVersion: "4.5",
				Dependencies: []*chart.Dependency{{Name: "redis", Version: "17.0.0", Repository: "https://charts.example.com"}}}},
		}
		if err := d.Create("sh.helm.release.v1.shop.v"+string(rune('1'+rev)), rel); err != nil {
			t.Fatalf("helm storage: %v", err)
		}
	}
	return s
}

func snapshotOf(t *testing.T, env *sandboxtest.Env) *snapshot.Snapshot {
	t.Helper()
	snap, err := cluster.Snapshot(context.Background(), &cluster.Target{Config: env.Config(), AllNamespaces: true}, cluster.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func newIdentity(t *testing.T) (*age.X25519Identity, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(p, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return id, p
}

// treeBytes reads every file under dir.
func treeBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBackupSandbox(t *testing.T) {
	env := sandboxtest.Get(t)
	s := seed(t, env.Config())
	id, keyFile := newIdentity(t)
	rcpt, err := ParseRecipient(id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "backup")
	wo := WriteOptions{Out: out, Recipients: []Recipient{rcpt}, Identities: []age.Identity{id}, ToolVersion: "test"}

	res, err := Write(ctx, snapshotOf(t, env), wo)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	for _, k := range s.kinds {
		if m.Counts[k] == 0 {
			t.Errorf("kind %s not in the backup; counts: %v", k, m.Counts)
		}
	}
	if n := len(s.kinds); n < 30 {
		t.Errorf("seeded %d kinds, want at least 30", n)
	}
	if res.Skipped["ephemeral"] == 0 || res.Skipped["controller-owned"] == 0 && res.Skipped["managed-endpoints"] == 0 {
		t.Errorf("skipped = %v, want ephemeral and derived objects skipped", res.Skipped)
	}
	if m.Skipped != nil || m.IncludeDerived {
		t.Errorf("manifest skipped %v, includeDerived %v: want no counts, and false", m.Skipped, m.IncludeDerived)
	}
	files := treeBytes(t, out)

	t.Run("layout", func(t *testing.T) {
		for _, p := range []string{
			"namespaces/" + s.ns + "/core/Endpoints/external-db.yaml",
			"namespaces/" + s.ns + "/core/Secret/blob.yaml",
			"namespaces/" + s.ns + "/core/Secret/blob.data.age",
			"namespaces/" + s.ns + "/" + s.ns + ".example.com/Widget/w1.yaml",
			"cluster/apiextensions.k8s.io/CustomResourceDefinition/widgets." + s.ns + ".example.com.yaml",
			"helm/" + s.ns + "/shop/chart.yaml", "helm/" + s.ns + "/shop/values.yaml.age",
			"helm/" + s.ns + "/shop/manifest.yaml", "helm/" + s.ns + "/shop/NOTE.md",
			InventoryFile, RecreateFile, ManifestFile, HMACKeyFile,
		} {
			if _, ok := files[p]; !ok {
				t.Errorf("missing %s", p)
			}
		}
		for _, p := range []string{
			"namespaces/" + s.ns + "/core/Endpoints/web.yaml",
			"namespaces/" + s.ns + "/coordination.k8s.io/Lease/ephemeral.yaml",
		} {
			if _, ok := files[p]; ok {
				t.Errorf("%s is not desired state but was backed up", p)
			}
		}
		svc := string(files["namespaces/"+s.ns+"/core/Service/web.yaml"])
		for _, noise := range []string{"clusterIP", "resourceVersion", "uid:", "managedFields", "creationTimestamp", "status:"} {
			if strings.Contains(svc, noise) {
				t.Errorf("Service web keeps %q:\n%s", noise, svc)
			}
		}
	})

	t.Run("no plaintext secret", func(t *testing.T) {
		values := [][]byte{binarySecret, []byte(tokenSecret), []byte(helmPassword)}
		for _, v := range values[:] {
			values = append(values, []byte(base64.StdEncoding.EncodeToString(v)), []byte(base64.RawStdEncoding.EncodeToString(v)))
		}
		for p, b := range files {
			for _, v := range values {
				if bytes.Contains(b, v) {
					t.Errorf("%s holds a seeded secret value in plaintext", p)
				}
			}
		}
	})

	t.Run("load decrypts", func(t *testing.T) {
		tree, err := Load(ctx, out, Options{Identities: []age.Identity{id}})
		if err != nil {
			t.Fatal(err)
		}
		if len(tree.Problems) > 0 || tree.Partial {
			t.Fatalf("problems %v partial %v", tree.Problems, tree.Partial)
		}
		var found bool
		for _, it := range tree.Items {
			if it.Object.GetKind() == "Secret" && it.Object.GetName() == "blob" && it.Object.GetNamespace() == s.ns {
				found = true
				got, _, _ := unstructured.NestedString(it.Object.Object, "data", "key.bin")
				if got != base64.StdEncoding.EncodeToString(binarySecret) {
					t.Errorf("blob data = %q", got)
				}
				for k := range it.Object.GetAnnotations() {
					if strings.HasPrefix(k, AnnotationPrefix) {
						t.Errorf("annotation %s not stripped", k)
					}
				}
			}
		}
		if !found {
			t.Error("Secret blob not loaded")
		}
		var rel *Release
		for i := range tree.Releases {
			if tree.Releases[i].Namespace == s.ns && tree.Releases[i].Name == "shop" {
				rel = &tree.Releases[i]
			}
		}
		if rel == nil || rel.Chart.Revision != 2 || rel.Chart.Version != "1.2.3" || !rel.RepositoryUnknown {
			t.Fatalf("release = %+v", rel)
		}
		if pw, _, _ := unstructured.NestedString(rel.Values, "db", "password"); pw != helmPassword {
			t.Errorf("helm values not recovered")
		}
	})

	t.Run("verify", func(t *testing.T) {
		rep, err := Verify(ctx, out, Options{Identities: []age.Identity{id}})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rep.Problems {
			if strings.Contains(p.Path, s.ns) {
				t.Errorf("problem: %s", p)
			}
		}
		if rep.Encrypted == 0 || rep.Decrypted != rep.Encrypted {
			t.Errorf("encrypted %d decrypted %d", rep.Encrypted, rep.Decrypted)
		}
		_, err = Verify(ctx, out, Options{Identities: []age.Identity{mustIdentity(t)}})
		if err == nil || !strings.Contains(err.Error(), "wrong --identity") {
			t.Errorf("wrong identity: err = %v", err)
		}
	})

	t.Run("age CLI decrypts", func(t *testing.T) {
		ageBin, err := exec.LookPath("age")
		if err != nil {
			t.Skip("the age CLI is not installed (make test-tools installs the Debian package age)")
		}
		cmd := exec.Command(ageBin, "-d", "-i", keyFile, filepath.Join(out, "namespaces", s.ns, "core", "Secret", "blob.data.age"))
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("age -d: %v", err)
		}
		want := "key.bin: " + base64.StdEncoding.EncodeToString(binarySecret)
		if !strings.Contains(string(got), want) {
			t.Errorf("age -d gave %d bytes without %q", len(got), "key.bin: <base64>")
		}
	})

	t.Run("second backup changes no byte", func(t *testing.T) {
		res2, err := Write(ctx, snapshotOf(t, env), wo)
		if err != nil {
			t.Fatal(err)
		}
		again := treeBytes(t, out)
		for p, b := range files {
			if !bytes.Equal(again[p], b) {
				t.Errorf("%s changed", p)
			}
		}
		for p := range again {
			if _, ok := files[p]; !ok {
				t.Errorf("%s appeared", p)
			}
		}
		if !res2.Unchanged || res2.Reencrypted != 0 {
			t.Errorf("unchanged = %v, re-encrypted = %d", res2.Unchanged, res2.Reencrypted)
		}
	})

	t.Run("tarball holds the same tree", func(t *testing.T) {
		tgz := filepath.Join(t.TempDir(), "b.tar.gz")
		if _, err := Write(ctx, snapshotOf(t, env), WriteOptions{Out: tgz, Recipients: []Recipient{rcpt}, ToolVersion: "test"}); err != nil {
			t.Fatal(err)
		}
		tree, err := Load(ctx, tgz, Options{Identities: []age.Identity{id}})
		if err != nil {
			t.Fatal(err)
		}
		dirTree, err := Load(ctx, out, Options{Identities: []age.Identity{id}})
		if err != nil {
			t.Fatal(err)
		}
		if len(tree.Items) != len(dirTree.Items) || len(tree.Problems) > 0 {
			t.Errorf("tarball: %d items, %v; dir: %d items", len(tree.Items), tree.Problems, len(dirTree.Items))
		}
	})
}

func mustIdentity(t *testing.T) *age.X25519Identity {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}
