package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/backup"
	"github.com/shipshape-dev/shipshape/internal/drift"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

// drNS is the namespace the round trip seeds; cluster-scoped objects carry
// it as a name prefix.
const drNS = "dr-roundtrip"

// Secret values the round trip seeds. None may appear in plaintext in a
// backup or in the commands' output, and each must come back after restore.
var (
	drBinary        = []byte{0x00, 0xff, 0x10, 0x80, 'd', 'r', '-', 'b', 'l', 'o', 'b', 0x01, 0xfe}
	drToken         = "dr-token-5c1e9a-never-in-plaintext"
	drHelmPassword1 = "dr-helm-password-rev1-Qm27"
	drHelmPassword2 = "dr-helm-password-rev2-Lx90"
)

// drSecretValues are the seeded values raw and base64-encoded.
func drSecretValues() [][]byte {
	raw := [][]byte{drBinary, []byte(drToken), []byte(drHelmPassword1), []byte(drHelmPassword2)}
	out := append([][]byte(nil), raw...)
	for _, v := range raw {
		out = append(out, []byte(base64.StdEncoding.EncodeToString(v)), []byte(base64.RawStdEncoding.EncodeToString(v)))
	}
	return out
}

// drSeed creates the estate of testdata/dr/seed.yaml, two Secrets (one with
// binary data), a custom resource of the seeded CRD and a Helm release with
// two revisions made by the Helm SDK. It returns the "group/Kind" keys of
// the backup manifest's counts that the estate must produce.
func drSeed(t *testing.T, env *sandboxtest.Env) []string {
	t.Helper()
	ctx := context.Background()
	cfg := env.Config()
	cfg.QPS, cfg.Burst = 200, 400
	cs := kubernetes.NewForConfigOrDie(cfg)
	dc := dynamic.NewForConfigOrDie(cfg)
	raw, err := os.ReadFile("testdata/dr/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{"core/Secret": true, drNS + ".example.com/Widget": true}
	var mapper *restmapper.DeferredDiscoveryRESTMapper
	newMapper := func() {
		mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	}
	newMapper()
	for i, doc := range strings.Split(strings.ReplaceAll(string(raw), "NS", drNS), "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("testdata/dr/seed.yaml document %d: %v", i+1, err)
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
		if u.GetNamespace() == "" && gvk.Kind != "Namespace" {
			t.Cleanup(func() {
				bg := context.Background()
				_ = ri.Delete(bg, u.GetName(), metav1.DeleteOptions{})
				if gvk.Kind != "CustomResourceDefinition" {
					return
				}
				// Wait until it is gone: while it terminates, discovery
				// still lists its resource, and a later test's scan of the
				// shared sandbox would be partial.
				sandboxtest.Eventually(t, time.Minute, "delete CRD "+u.GetName(), func() error {
					_, err := ri.Get(bg, u.GetName(), metav1.GetOptions{})
					switch {
					case apierrors.IsNotFound(err):
						return nil
					case err == nil:
						return errors.New("still there")
					}
					return err
				})
			})
		}
		if gvk.Kind != "Lease" { // ephemeral: the backup skips it
			g := gvk.Group
			if g == "" {
				g = "core"
			}
			kinds[g+"/"+gvk.Kind] = true
		}
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), drNS, metav1.DeleteOptions{}) })

	for _, sec := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "blob", Namespace: drNS}, Data: map[string][]byte{"key.bin": drBinary}},
		{ObjectMeta: metav1.ObjectMeta{Name: "app-secret", Namespace: drNS, Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": `{"stringData":{"token":"` + drToken + `"}}`}},
			StringData: map[string]string{"token": drToken}},
	} {
		if _, err := cs.CoreV1().Secrets(drNS).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// A dependent with a non-controller ownerReference: the owner's UID is
	// server-made and differs after a restore.
	owner, err := cs.CoreV1().ConfigMaps(drNS).Get(ctx, "app-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dependent := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-config-extra", Namespace: drNS,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}}},
		Data: map[string]string{"extra": "yes"}}
	if _, err := cs.CoreV1().ConfigMaps(drNS).Create(ctx, dependent, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	widgets := schema.GroupVersionResource{Group: drNS + ".example.com", Version: "v1", Resource: "widgets"}
	for _, name := range []string{"w1", "w2"} {
		w := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": drNS + ".example.com/v1", "kind": "Widget",
			"metadata": map[string]any{"name": name, "namespace": drNS},
			"spec":     map[string]any{"size": int64(3), "tags": []any{"a", "b"}},
		}}
		sandboxtest.Eventually(t, 30*time.Second, "create Widget "+name, func() error {
			_, err := dc.Resource(widgets).Namespace(drNS).Create(ctx, w, metav1.CreateOptions{})
			return err
		})
	}

	// A ConfigMap a custom resource owns, as an operator makes them: its
	// owner is restored in a later phase than itself.
	w1, err := dc.Resource(widgets).Namespace(drNS).Get(ctx, "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// (Not as its controller: a controller's objects are left out of a
	// backup as derived.)
	yes := true
	if _, err := cs.CoreV1().ConfigMaps(drNS).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "w1-settings", Namespace: drNS,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: drNS + ".example.com/v1", Kind: "Widget", Name: "w1", UID: w1.GetUID(), BlockOwnerDeletion: &yes}}},
		Data: map[string]string{"size": "3"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// A real Helm release: install, then upgrade, so that the records hold
	// a superseded and a deployed revision.
	ch, err := loader.LoadDir("testdata/dr/chart")
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, ns := env.Kubeconfig(), drNS
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &kubeconfig, &ns
	hc := action.NewConfiguration()
	if err := hc.Init(flags, drNS, "secret"); err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(hc)
	install.ReleaseName, install.Namespace = "shop", drNS
	install.WaitStrategy = kube.HookOnlyStrategy
	if _, err := install.RunWithContext(ctx, ch, map[string]any{"db": map[string]any{"password": drHelmPassword1}}); err != nil {
		t.Fatalf("helm install: %v", err)
	}
	upgrade := action.NewUpgrade(hc)
	upgrade.Namespace = drNS
	upgrade.WaitStrategy = kube.HookOnlyStrategy
	if _, err := upgrade.RunWithContext(ctx, "shop", ch, map[string]any{"replicas": 2, "db": map[string]any{"password": drHelmPassword2}}); err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}

	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// drSettle waits until the controllers have made the derived objects of
// the seeded workloads and Services. The backup skips them, but its
// manifest counts what each rule skipped, so a second backup made while
// they still appear would differ.
func drSettle(t *testing.T, env *sandboxtest.Env) {
	t.Helper()
	ctx := context.Background()
	cs := env.Clientset(t)
	sandboxtest.Eventually(t, 2*time.Minute, "derived objects of the seeded estate", func() error {
		pods, err := cs.CoreV1().Pods(drNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		rs, err := cs.AppsV1().ReplicaSets(drNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		revs, err := cs.AppsV1().ControllerRevisions(drNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		slices, err := cs.DiscoveryV1().EndpointSlices(drNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		bySvc := map[string]int{}
		for _, s := range slices.Items {
			bySvc[s.Labels["kubernetes.io/service-name"]]++
		}
		_, epErr := cs.CoreV1().Endpoints(drNS).Get(ctx, "web", metav1.GetOptions{})
		if len(pods.Items) < 2 || len(rs.Items) < 1 || len(revs.Items) < 2 || bySvc["web"] < 1 || bySvc["external-db"] < 2 || epErr != nil {
			return fmt.Errorf("%d pods (want 2), %d ReplicaSets (1), %d ControllerRevisions (2), EndpointSlices per Service %v (web 1, external-db 2), Endpoints web: %v",
				len(pods.Items), len(rs.Items), len(revs.Items), bySvc, epErr)
		}
		return nil
	})
}

// drTree reads every file under dir, keyed by slash-separated relative path.
func drTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// drDecrypt opens an age file, armored or binary.
func drDecrypt(t *testing.T, name string, ct []byte, id age.Identity) []byte {
	t.Helper()
	var src io.Reader = bytes.NewReader(ct)
	if bytes.HasPrefix(bytes.TrimSpace(ct), []byte(armor.Header)) {
		src = armor.NewReader(bytes.NewReader(bytes.TrimSpace(ct)))
	}
	r, err := age.Decrypt(src, id)
	if err != nil {
		t.Fatalf("decrypt %s: %v", name, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decrypt %s: %v", name, err)
	}
	return b
}

var (
	drDataHMAC   = regexp.MustCompile(`(?m)^(\s*` + regexp.QuoteMeta(backup.AnnotationDataHMAC) + `:\s*)"?([0-9a-f]{64})"?\s*$`)
	drValuesHMAC = regexp.MustCompile(`(?m)^(\s*valuesHMAC:\s*)"?([0-9a-f]{64})"?\s*$`)
)

// drNormalize returns a tree whose encrypted files are replaced by their
// plaintext and whose keyed HMACs are checked and then blanked: each backup
// makes its own random HMAC key, so the same plaintext has a different HMAC
// in two backups. Each HMAC must be the HMAC under the tree's own key of the
// plaintext of the data file beside it, so blanking hides no difference.
func drNormalize(t *testing.T, name string, files map[string][]byte, id age.Identity) map[string][]byte {
	t.Helper()
	ct, ok := files[backup.HMACKeyFile]
	if !ok {
		t.Fatalf("%s: no %s", name, backup.HMACKeyFile)
	}
	key := drDecrypt(t, name+"/"+backup.HMACKeyFile, ct, id)
	if len(key) != 32 {
		t.Fatalf("%s: HMAC key of %d bytes", name, len(key))
	}
	mac := func(b []byte) string {
		h := hmac.New(sha256.New, key)
		h.Write(b)
		return hex.EncodeToString(h.Sum(nil))
	}
	out := map[string][]byte{}
	for p, b := range files {
		switch {
		case p == backup.HMACKeyFile:
			out[p] = []byte("(32-byte key, differs per backup)")
		case strings.HasSuffix(p, ".age"):
			out[p] = drDecrypt(t, name+"/"+p, b, id)
		default:
			out[p] = b
		}
	}
	for p, b := range out {
		if !strings.HasSuffix(p, ".yaml") {
			continue
		}
		check := func(re *regexp.Regexp, dataFile string) {
			for _, m := range re.FindAllSubmatch(b, -1) {
				plain, ok := out[dataFile]
				if !ok {
					t.Errorf("%s/%s: HMAC but no data file %s", name, p, dataFile)
					continue
				}
				if got := mac(plain); got != string(m[2]) {
					t.Errorf("%s/%s: recorded HMAC %s is not the HMAC of %s (%s)", name, p, m[2], dataFile, got)
				}
			}
			b = re.ReplaceAll(b, []byte("${1}(hmac)"))
		}
		var meta struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		if drDataHMAC.Match(b) {
			if err := yaml.Unmarshal(b, &meta); err != nil {
				t.Fatalf("%s/%s: %v", name, p, err)
			}
			check(drDataHMAC, path.Join(path.Dir(p), meta.Metadata.Annotations[backup.AnnotationDataFile]))
		}
		if path.Base(p) == "chart.yaml" {
			check(drValuesHMAC, path.Join(path.Dir(p), "values.yaml.age"))
		}
		out[p] = b
	}
	return out
}

// drManifest reads a backup's manifest.yaml.
func drManifest(t *testing.T, b []byte) *backup.Manifest {
	t.Helper()
	var m backup.Manifest
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.yaml: %v", err)
	}
	return &m
}

// TestDisasterRecoveryRoundTrip is the round trip of the disaster-recovery
// issue through the real commands: seed at least 30 kinds, `backup` to A,
// `backup` again into A (no byte changes), `restore` A into a second fresh
// sandbox, `backup` that one to B, and compare A and B file by file
// (encrypted files by their plaintext).
func TestDisasterRecoveryRoundTrip(t *testing.T) {
	src := sandboxtest.Get(t)
	ctx := context.Background()
	kinds := drSeed(t, src)
	if len(kinds) < 30 {
		t.Fatalf("seeded %d kinds, want at least 30: %v", len(kinds), kinds)
	}
	t.Logf("seeded %d kinds", len(kinds))
	drSettle(t, src)
	// The sandbox is shared: namespaces other tests deleted must be gone
	// before the cluster counts as unchanged between two backups.
	sandboxtest.Eventually(t, 2*time.Minute, "no namespace terminating", func() error {
		list, err := src.Clientset(t).CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, ns := range list.Items {
			if ns.Status.Phase == corev1.NamespaceTerminating {
				return fmt.Errorf("namespace %s is terminating", ns.Name)
			}
		}
		return nil
	})

	dir := t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	recipient := id.Recipient().String()
	secrets := drSecretValues()
	run := func(want int, kubeconfig string, args ...string) string {
		t.Helper()
		streams, out, errb := testStreams("")
		code := Main(ctx, append(args, "--kubeconfig", kubeconfig), streams)
		all := out.String() + errb.String()
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s", args, code, want, all)
		}
		for _, v := range secrets {
			if strings.Contains(all, string(v)) {
				t.Fatalf("%v printed a seeded secret value", args)
			}
		}
		return out.String()
	}

	a := filepath.Join(dir, "A")
	run(ExitOK, src.Kubeconfig(), "backup", "--out", a, "--recipient", recipient)
	treeA := drTree(t, a)
	manA := drManifest(t, treeA[backup.ManifestFile])
	for _, k := range kinds {
		if manA.Counts[k] == 0 {
			t.Errorf("seeded kind %s is not in backup A", k)
		}
	}
	for _, p := range []string{
		"namespaces/" + drNS + "/core/Secret/blob.data.age",
		"namespaces/" + drNS + "/core/Service/external-db.yaml",
		"namespaces/" + drNS + "/core/Endpoints/external-db.yaml",
		"namespaces/" + drNS + "/" + drNS + ".example.com/Widget/w1.yaml",
		"cluster/apiextensions.k8s.io/CustomResourceDefinition/widgets." + drNS + ".example.com.yaml",
		"helm/" + drNS + "/shop/chart.yaml", "helm/" + drNS + "/shop/values.yaml.age", "helm/" + drNS + "/shop/manifest.yaml",
	} {
		if _, ok := treeA[p]; !ok {
			t.Errorf("backup A lacks %s", p)
		}
	}
	// Backup strips every ownerReference (clean.go): the owner's UID is made
	// by the server and would not match after a restore. The owners are
	// recorded by name instead.
	var extra struct {
		Metadata struct {
			Annotations     map[string]string `json:"annotations"`
			OwnerReferences []any             `json:"ownerReferences"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(treeA["namespaces/"+drNS+"/core/ConfigMap/app-config-extra.yaml"], &extra); err != nil ||
		extra.Metadata.OwnerReferences != nil || extra.Metadata.Annotations[drift.OwnersAnnotation] != `[{"apiVersion":"v1","kind":"ConfigMap","name":"app-config"}]` {
		t.Errorf("ConfigMap app-config-extra in A (%v): want it without ownerReferences, its owner by name: %+v", err, extra.Metadata)
	}
	for p, b := range treeA {
		for _, v := range secrets {
			if bytes.Contains(b, v) {
				t.Errorf("A/%s holds a seeded secret value in plaintext", p)
			}
		}
	}

	t.Run("second backup into the same tree changes no byte", func(t *testing.T) {
		out := run(ExitOK, src.Kubeconfig(), "backup", "--out", a, "--recipient", recipient, "--identity", keyFile)
		if !strings.Contains(out, "backup unchanged") || !strings.Contains(out, "0 newly encrypted") {
			t.Errorf("second backup: %s", out)
		}
		if !strings.Contains(out, "left out by rule (see docs/backup.md): ") || !strings.Contains(out, "control-plane-default ") {
			t.Errorf("second backup does not say what it left out: %s", out)
		}
		again := drTree(t, a)
		if diff := cmp.Diff(drKeys(treeA), drKeys(again)); diff != "" {
			t.Errorf("files of the second backup (-first +second):\n%s", diff)
		}
		for p, b := range treeA {
			if c, ok := again[p]; ok && !bytes.Equal(b, c) {
				t.Errorf("%s changed", p)
			}
		}
	})

	dst, err := sandboxtest.Start(ctx, sandboxtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dst.Stop() })
	dcs := dst.Clientset(t)
	ddc := dynamic.NewForConfigOrDie(dst.Config())
	widgets := schema.GroupVersionResource{Group: drNS + ".example.com", Version: "v1", Resource: "widgets"}

	// The first restore is interrupted as soon as it stores the first Secret
	// (phase 5 of 12); the rerun must complete it. The comparison of the
	// trees below then also proves that the rerun left nothing out.
	t.Run("interrupted restore rerun completes", func(t *testing.T) {
		w, err := dcs.CoreV1().Secrets(drNS).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ictx, cancel := context.WithCancel(ctx)
		go func() {
			defer w.Stop()
			for range w.ResultChan() {
				cancel()
				return
			}
		}()
		streams, iout, ierr := testStreams("")
		code := Main(ictx, []string{"restore", "--from", a, "--identity", keyFile, "--concurrency", "1", "--kubeconfig", dst.Kubeconfig()}, streams)
		cancel()
		w.Stop()
		if code == ExitOK {
			t.Fatalf("the interrupted restore exited 0:\n%s%s", iout, ierr)
		}
		istdout := strings.TrimSpace(iout.String())
		t.Logf("interrupted restore: exit %d, %s; last line of stdout: %q", code, strings.TrimSpace(ierr.String()), istdout[strings.LastIndex(istdout, "\n")+1:])
		if _, err := dcs.CoreV1().Secrets(drNS).Get(ctx, "blob", metav1.GetOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if _, err := ddc.Resource(widgets).Namespace(drNS).Get(ctx, "w1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("Widget w1 after the interrupted restore: err = %v, want NotFound (the interruption came too late to test anything)", err)
		}
		if _, err := dcs.AppsV1().Deployments(drNS).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("Deployment web after the interrupted restore: err = %v, want NotFound", err)
		}
		out := run(ExitOK, dst.Kubeconfig(), "restore", "--from", a, "--identity", keyFile)
		last := out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]
		t.Logf("rerun: %s", last)
		if !strings.Contains(last, " create") || !strings.Contains(last, " unchanged") || strings.Contains(last, "failed") || strings.Contains(last, "conflict") {
			t.Errorf("the rerun should create what the first run left and leave the rest unchanged; summary: %s", last)
		}
		if _, err := ddc.Resource(widgets).Namespace(drNS).Get(ctx, "w1", metav1.GetOptions{}); err != nil {
			t.Errorf("Widget w1 after the rerun: %v", err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	b := filepath.Join(dir, "B")
	run(ExitOK, dst.Kubeconfig(), "backup", "--out", b, "--recipient", recipient)
	treeB := drTree(t, b)
	for p, b := range treeB {
		for _, v := range secrets {
			if bytes.Contains(b, v) {
				t.Errorf("B/%s holds a seeded secret value in plaintext", p)
			}
		}
	}

	t.Run("the trees are identical", func(t *testing.T) {
		na := drNormalize(t, "A", treeA, id)
		nb := drNormalize(t, "B", treeB, id)
		// The manifest differs on purpose in the time it was made, the
		// server it was read from and the checksums of the encrypted files
		// (fresh ciphertext, fresh HMAC key). All else must match.
		ma, mb := drManifest(t, na[backup.ManifestFile]), drManifest(t, nb[backup.ManifestFile])
		if ma.Server == nil || mb.Server == nil || ma.Server.Host == mb.Server.Host {
			t.Errorf("manifest servers %+v and %+v: want two different servers", ma.Server, mb.Server)
		}
		for _, x := range []struct {
			m           *backup.Manifest
			raw, normal map[string][]byte
		}{{ma, treeA, na}, {mb, treeB, nb}} {
			m := x.m
			if m.Created.IsZero() {
				t.Error("manifest without a creation time")
			}
			m.Created = time.Time{}
			if m.Server != nil {
				m.Server.Host = ""
			}
			for p := range m.Files {
				if !bytes.Equal(x.raw[p], x.normal[p]) {
					m.Files[p] = "(encrypted or HMAC-bearing: compared by content below)"
				}
			}
		}
		if diff := cmp.Diff(ma, mb); diff != "" {
			t.Errorf("manifest.yaml (-A +B):\n%s", diff)
		}
		delete(na, backup.ManifestFile)
		delete(nb, backup.ManifestFile)
		t.Logf("comparing %d files of A with %d of B", len(na), len(nb))

		if diff := cmp.Diff(drKeys(na), drKeys(nb)); diff != "" {
			t.Errorf("files (-A +B):\n%s", diff)
		}
		var differ []string
		for p, x := range na {
			if y, ok := nb[p]; ok && !bytes.Equal(x, y) {
				differ = append(differ, p)
			}
		}
		sort.Strings(differ)
		for _, p := range differ {
			t.Errorf("%s differs (-A +B):\n%s", p, cmp.Diff(string(na[p]), string(nb[p])))
		}
	})

	t.Run("the age CLI decrypts a Secret of B", func(t *testing.T) {
		ageBin, err := exec.LookPath("age")
		if err != nil {
			t.Skip("the age CLI is not installed (Debian package age)")
		}
		got, err := exec.Command(ageBin, "-d", "-i", keyFile, filepath.Join(b, "namespaces", drNS, "core", "Secret", "blob.data.age")).Output()
		if err != nil {
			t.Fatalf("age -d: %v", err)
		}
		if !strings.Contains(string(got), "key.bin: "+base64.StdEncoding.EncodeToString(drBinary)) {
			t.Errorf("age -d gave %d bytes without the seeded key.bin", len(got))
		}
	})

	t.Run("owners are linked again by name", func(t *testing.T) {
		widgets := schema.GroupVersionResource{Group: drNS + ".example.com", Version: "v1", Resource: "widgets"}
		uids := func(env *sandboxtest.Env) (types.UID, types.UID) {
			cm, err := env.Clientset(t).CoreV1().ConfigMaps(drNS).Get(ctx, "app-config", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			w, err := dynamic.NewForConfigOrDie(env.Config()).Resource(widgets).Namespace(drNS).Get(ctx, "w1", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return cm.UID, w.GetUID()
		}
		ownerA, w1A := uids(src)
		ownerB, w1B := uids(dst)
		if ownerA == ownerB || w1A == w1B {
			t.Fatal("the owners kept their UIDs across clusters: the test proves nothing")
		}
		for name, want := range map[string]types.UID{"app-config-extra": ownerB, "w1-settings": w1B} {
			cm, err := dcs.CoreV1().ConfigMaps(drNS).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(cm.OwnerReferences) != 1 || cm.OwnerReferences[0].UID != want {
				t.Errorf("%s in B: owner references %+v, want one to UID %s", name, cm.OwnerReferences, want)
			}
		}
	})

	t.Run("restored secrets decrypt to the seeded values", func(t *testing.T) {
		cs := dcs
		sec, err := cs.CoreV1().Secrets(drNS).Get(ctx, "blob", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sec.Data["key.bin"], drBinary) {
			t.Error("binary Secret data did not come back byte for byte")
		}
		sec, err = cs.CoreV1().Secrets(drNS).Get(ctx, "shop-db", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if string(sec.Data["password"]) != drHelmPassword2 {
			t.Error("the Helm-made Secret did not come back with the deployed revision's value")
		}
	})

	t.Run("diff finds no drift after the restore", func(t *testing.T) {
		out := run(ExitOK, dst.Kubeconfig(), "diff", "--from", a, "--identity", keyFile)
		if !strings.Contains(out, "0 only in the tree, 0 only live, 0 changed,") {
			t.Errorf("diff after the restore:\n%s", out)
		}
	})

	// Backing the restored cluster up into (a copy of) the original tree,
	// as a team would into its git checkout, changes only manifest.yaml:
	// the server and the time. The HMAC key is reused, so unchanged Secrets
	// keep their ciphertext.
	t.Run("backup of the restored cluster into the original tree", func(t *testing.T) {
		a2 := filepath.Join(dir, "A2")
		for p, b := range treeA {
			f := filepath.Join(a2, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out := run(ExitOK, dst.Kubeconfig(), "backup", "--out", a2, "--recipient", recipient, "--identity", keyFile)
		if !strings.Contains(out, "0 newly encrypted") {
			t.Errorf("Secrets were encrypted afresh: %s", out)
		}
		tree := drTree(t, a2)
		if diff := cmp.Diff(drKeys(treeA), drKeys(tree)); diff != "" {
			t.Errorf("files (-A +A2):\n%s", diff)
		}
		var changed []string
		for p, b := range treeA {
			if c, ok := tree[p]; ok && !bytes.Equal(b, c) {
				changed = append(changed, p)
			}
		}
		sort.Strings(changed)
		if diff := cmp.Diff([]string{backup.ManifestFile}, changed); diff != "" {
			t.Errorf("changed files (-want +got):\n%s", diff)
		}
	})

	// Objects that exist and differ, changed by another field manager: the
	// restore reports them as conflicts, changes nothing, and exits 1.
	t.Run("restore over differing objects clobbers nothing", func(t *testing.T) {
		cm, err := dcs.CoreV1().ConfigMaps(drNS).Get(ctx, "app-config", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cm.Data["LOG_LEVEL"] = "debug"
		if _, err := dcs.CoreV1().ConfigMaps(drNS).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "hand-edit"}); err != nil {
			t.Fatal(err)
		}
		wu, err := ddc.Resource(widgets).Namespace(drNS).Get(ctx, "w2", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := unstructured.SetNestedField(wu.Object, int64(5), "spec", "size"); err != nil {
			t.Fatal(err)
		}
		if _, err := ddc.Resource(widgets).Namespace(drNS).Update(ctx, wu, metav1.UpdateOptions{FieldManager: "hand-edit"}); err != nil {
			t.Fatal(err)
		}
		out := run(ExitError, dst.Kubeconfig(), "restore", "--from", a, "--identity", keyFile, "-o", "json")
		var r struct {
			Complete bool
			Objects  []struct{ Action, Kind, Namespace, Name, Detail string }
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		conflicts := map[string]string{}
		for _, o := range r.Objects {
			switch o.Action {
			case "unchanged":
			case "conflict":
				conflicts[o.Kind+" "+o.Namespace+"/"+o.Name] = o.Detail
			default:
				t.Errorf("%s %s/%s: %s %s", o.Kind, o.Namespace, o.Name, o.Action, o.Detail)
			}
		}
		want := []string{"ConfigMap " + drNS + "/app-config", "Widget " + drNS + "/w2"}
		if diff := cmp.Diff(want, drKeys(conflicts)); diff != "" || r.Complete {
			t.Errorf("conflicts (-want +got):\n%s\ncomplete = %v", diff, r.Complete)
		}
		for k, d := range conflicts {
			if d == "" {
				t.Errorf("conflict %s without detail", k)
			}
		}
		cm, err = dcs.CoreV1().ConfigMaps(drNS).Get(ctx, "app-config", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data["LOG_LEVEL"] != "debug" {
			t.Errorf("restore overwrote the hand edit of ConfigMap app-config: %q", cm.Data["LOG_LEVEL"])
		}
		wu, err = ddc.Resource(widgets).Namespace(drNS).Get(ctx, "w2", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if size, _, _ := unstructured.NestedInt64(wu.Object, "spec", "size"); size != 5 {
			t.Errorf("restore overwrote the hand edit of Widget w2: size %d", size)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		drBadInput(t, src, a, keyFile, recipient)
	})
}

// drBadInput feeds the commands a corrupt tarball, tarballs with entries
// that leave the backup, a wrong identity and no recipient: each must fail
// with an error that names the problem, and nothing may be written outside
// the target.
func drBadInput(t *testing.T, src *sandboxtest.Env, good, keyFile, recipient string) {
	ctx := context.Background()
	dir := t.TempDir()
	tgz := filepath.Join(dir, "good.tar.gz")
	streams, out, errb := testStreams("")
	if code := Main(ctx, []string{"backup", "--out", tgz, "--recipient", recipient, "--kubeconfig", src.Kubeconfig()}, streams); code != ExitOK {
		t.Fatalf("backup to a tarball: exit %d\n%s%s", code, out, errb)
	}
	raw, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	// A tarball with one bad entry beside the good files.
	withEntry := func(name string) []byte {
		t.Helper()
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(zr)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		body := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: evil, namespace: default}\n")
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(tw, tr); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	outside := filepath.Join(dir, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	absEntry := filepath.Join(outside, "abs-evil.yaml")
	wrongKey := filepath.Join(dir, "wrong.txt")
	wrong, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrongKey, []byte(wrong.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"truncated.tar.gz": raw[:len(raw)/2],
		"garbage.tar.gz":   []byte("this is not a gzip file\n"),
		"dotdot.tar.gz":    withEntry("../outside/evil.yaml"),
		"nested.tar.gz":    withEntry("namespaces/../../outside/evil2.yaml"),
		"absolute.tar.gz":  withEntry(absEntry),
	}
	backups := filepath.Join(dir, "backups")
	if err := os.Mkdir(backups, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(backups, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"truncated tarball", []string{"restore", "--from", filepath.Join(backups, "truncated.tar.gz"), "--identity", keyFile}, ExitError, "truncated.tar.gz: corrupt archive"},
		{"not gzip", []string{"restore", "--from", filepath.Join(backups, "garbage.tar.gz"), "--identity", keyFile}, ExitError, "garbage.tar.gz: not a gzip file"},
		{"verify truncated", []string{"backup", "verify", "--from", filepath.Join(backups, "truncated.tar.gz"), "--identity", keyFile}, ExitError, "corrupt archive"},
		{"dot-dot entry", []string{"restore", "--from", filepath.Join(backups, "dotdot.tar.gz"), "--identity", keyFile}, ExitError, `entry "../outside/evil.yaml": path escapes the backup`},
		{"nested dot-dot entry", []string{"restore", "--from", filepath.Join(backups, "nested.tar.gz"), "--identity", keyFile}, ExitError, `path escapes the backup`},
		{"absolute entry", []string{"restore", "--from", filepath.Join(backups, "absolute.tar.gz"), "--identity", keyFile}, ExitError, "absolute path"},
		{"diff of a dot-dot tarball", []string{"diff", "--from", filepath.Join(backups, "dotdot.tar.gz"), "--identity", keyFile}, ExitError, "path escapes the backup"},
		{"wrong identity", []string{"restore", "--from", good, "--identity", wrongKey}, ExitError, "wrong --identity"},
		{"wrong identity tarball", []string{"restore", "--from", tgz, "--identity", wrongKey}, ExitError, "wrong --identity"},
		{"no identity", []string{"restore", "--from", good}, ExitUsage, "give --identity"},
		{"no recipient", []string{"backup", "--out", filepath.Join(dir, "norecipient")}, ExitUsage, "no recipient"},
		{"bad recipients file", []string{"backup", "--out", filepath.Join(dir, "norecipient"), "--recipients-file", filepath.Join(backups, "garbage.tar.gz")}, ExitUsage, "--recipients-file"},
		{"backup over a foreign tarball", []string{"backup", "--out", filepath.Join(backups, "dotdot.tar.gz"), "--recipient", recipient}, ExitError, "dotdot.tar.gz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			streams, out, errb := testStreams("")
			code := Main(ctx, append(tc.args, "--kubeconfig", src.Kubeconfig()), streams)
			if code != tc.code || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q\nstdout: %s", code, errb, tc.code, tc.want, out)
			}
			if strings.Contains(out.String(), "create") {
				t.Errorf("bad input applied objects:\n%s", out)
			}
		})
	}
	// Nothing appeared outside the targets, no backup was made without a
	// recipient, and the foreign tarball is untouched.
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("files written outside the backup: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "norecipient")); !os.IsNotExist(err) {
		t.Errorf("a backup without recipients was written: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(backups, "dotdot.tar.gz")); !bytes.Equal(b, files["dotdot.tar.gz"]) {
		t.Error("backup replaced a tarball that was not a complete shipshape backup")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"backups", "good.tar.gz", "outside", "wrong.txt"}, names); diff != "" {
		t.Errorf("files beside the targets (-want +got):\n%s", diff)
	}
	if _, err := src.Clientset(t).CoreV1().ConfigMaps("default").Get(ctx, "evil", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the ConfigMap of a bad entry reached the cluster: err = %v", err)
	}
}

func drKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
