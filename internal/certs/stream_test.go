package certs

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// TestStreamMatchesSnapshot reads the same sandbox once through a snapshot
// and FromSnapshot, and once through cluster.Stream and a Collector (with
// Secrets typed and pages of three objects), and wants the same findings
// and the same table, with each planted problem found.
func TestStreamMatchesSnapshot(t *testing.T) {
	env := sandboxtest.Get(t)
	ctx := context.Background()
	cs := env.Clientset(t)
	const ns = "certs-stream"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Certificates made for the real clock: the sandbox's own are judged
	// beside them.
	ca := issue(t, spec{cn: "stream-ca", ca: true, notBefore: time.Now().Add(-time.Hour), lifetime: 3650 * Day}, nil)
	other := issue(t, spec{cn: "other-ca", ca: true, notBefore: time.Now().Add(-time.Hour), lifetime: 3650 * Day}, nil)
	leaf := func(cn string, lifetime time.Duration) issued {
		return issue(t, spec{cn: cn, dns: []string{cn}, notBefore: time.Now().Add(-time.Hour), lifetime: lifetime}, &ca)
	}
	tlsSecret := func(name string, c issued, key []byte, caPEM []byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": certPEM(c.cert), "tls.key": key, "ca.crt": caPEM}}
	}
	var secrets []*corev1.Secret
	for i := range 7 {
		c := leaf(fmt.Sprintf("ok-%d.example", i), 365*Day)
		secrets = append(secrets, tlsSecret(fmt.Sprintf("ok-%d", i), c, keyPEM(t, c.key), certPEM(ca.cert)))
	}
	wrongCA := leaf("wrong-ca.example", 365*Day)
	mismatch := leaf("mismatch.example", 365*Day)
	expiring := leaf("expiring.example", 3*Day)
	secrets = append(secrets,
		tlsSecret("wrong-ca", wrongCA, keyPEM(t, wrongCA.key), certPEM(other.cert)),
		tlsSecret("mismatch", mismatch, keyPEM(t, other.key), certPEM(ca.cert)),
		tlsSecret("expiring", expiring, keyPEM(t, expiring.key), certPEM(ca.cert)),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "empty"}, Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": {}, "tls.key": {}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "opaque-bundle"}, Data: map[string][]byte{"bundle.pem": append(certPEM(ca.cert), certPEM(other.cert)...), "password": []byte("not a certificate")}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "opaque-plain"}, Data: map[string][]byte{"token": []byte("abc")}},
	)
	for _, s := range secrets {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "bundle"},
		Data: map[string]string{"ca.pem": string(certPEM(other.cert)), "broken.pem": "-----BEGIN CERTIFICATE-----\nnot base64\n"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The controller manager publishes kube-root-ca.crt into every new
	// namespace on its own time; wait for it, so that the two reads below
	// see the same objects.
	sandboxtest.Eventually(t, time.Minute, "kube-root-ca.crt in "+ns, func() error {
		_, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err
	})

	target, err := cluster.ConfigFlags{Kubeconfig: env.Kubeconfig(), AllNamespaces: true}.Load()
	if err != nil {
		t.Fatal(err)
	}
	snap, err := cluster.Snapshot(ctx, target, cluster.SnapshotOptions{Resources: Resources(), PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := FromSnapshot(snap)

	col := NewCollector()
	var pages atomic.Int64
	streamed, err := cluster.Stream(ctx, target, cluster.StreamOptions{
		SnapshotOptions: cluster.SnapshotOptions{Resources: Resources(), PageSize: 3},
		Typed:           TypedResources(),
	}, func(p cluster.Page) error {
		if p.Resource.Resource == "secrets" {
			if _, ok := p.Typed.(*corev1.SecretList); !ok {
				return fmt.Errorf("secrets page is %T, not typed", p.Typed)
			}
		}
		pages.Add(1)
		return col.Page(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	// As the CLI does: merged into the inventory of the other sources,
	// with the signature checks made during the stream kept.
	got := &Inventory{}
	got.Merge(col.Inventory())
	// One per TLS Secret whose ca.crt names the leaf's issuer: all but
	// wrong-ca and empty.
	if n := len(got.sigs); n < 9 {
		t.Errorf("%d signature checks carried over from the stream, want at least 9", n)
	}
	if col.Objects() != len(snap.Objects) {
		t.Errorf("collector read %d objects, the snapshot holds %d", col.Objects(), len(snap.Objects))
	}
	if n := pages.Load(); n < 5 {
		t.Errorf("%d pages streamed, want several of three objects", n)
	}
	if diff := cmp.Diff(snap.Gaps, streamed.Gaps); diff != "" {
		t.Errorf("gaps differ (-snapshot +stream):\n%s", diff)
	}

	at := time.Now()
	wantF, gotF := Judge(want, DefaultPolicy(), at), Judge(got, DefaultPolicy(), at)
	if diff := cmp.Diff(briefs("", wantF), briefs("", gotF)); diff != "" {
		t.Errorf("findings differ (-snapshot +stream):\n%s", diff)
	}
	if diff := cmp.Diff(fmt.Sprint(wantF), fmt.Sprint(gotF)); diff != "" {
		t.Errorf("finding messages differ (-snapshot +stream):\n%s", diff)
	}
	if diff := cmp.Diff(Rows(want, at), Rows(got, at)); diff != "" {
		t.Errorf("rows differ (-snapshot +stream):\n%s", diff)
	}
	// Every planted problem is found (by the stream; the snapshot's are
	// the same, checked above).
	for _, w := range []string{
		ChainCheck + " " + ns + "/Secret/wrong-ca",
		KeyMismatchCheck + " " + ns + "/Secret/mismatch",
		ExpiryCheck + " " + ns + "/Secret/expiring",
		UnreadableCheck + " " + ns + "/Secret/empty",
		UnreadableCheck + " " + ns + "/ConfigMap/bundle",
	} {
		found := false
		for _, f := range gotF {
			if f.Check+" "+f.Where() == w || strings.HasPrefix(f.Check+" "+f.Where(), w+" ") {
				found = true
			}
		}
		if !found {
			t.Errorf("no finding %q among:\n%v", w, briefs("", gotF))
		}
	}
	n := 0
	for _, c := range got.Certs {
		if c.Source.Object != nil && c.Source.Object.Namespace == ns {
			n++
		}
	}
	// 10 leaves with their ca.crt, two in the opaque bundle, one in the
	// ConfigMap.
	if n != 23 {
		t.Errorf("%d certificates from %s, want 23", n, ns)
	}
}

// TestCollectorPages: pages of a resource count only once its Last page
// arrived, a Reset voids the pages before it, and a typed list the
// Collector cannot read is an error, never silently skipped.
func TestCollectorPages(t *testing.T) {
	ca := issue(t, spec{cn: "pages-ca", ca: true, lifetime: 3650 * Day}, nil)
	secret := func(name string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": name, "namespace": "ns"},
			"data":     map[string]any{"ca.crt": base64Std(certPEM(ca.cert))},
		}}
	}
	secrets := snapshot.Resource{Version: "v1", Resource: "secrets", Kind: "Secret", Namespaced: true}
	configMaps := snapshot.Resource{Version: "v1", Resource: "configmaps", Kind: "ConfigMap", Namespaced: true}
	col := NewCollector()
	for _, p := range []cluster.Page{
		{Resource: secrets, Objects: []*unstructured.Unstructured{secret("void")}},
		{Resource: secrets, Reset: true},
		{Resource: secrets, Objects: []*unstructured.Unstructured{secret("b"), secret("a")}, Last: true},
		// configmaps never complete: left out, as a gap would say.
		{Resource: configMaps, Objects: []*unstructured.Unstructured{secret("unfinished")}},
	} {
		if err := col.Page(p); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, c := range col.Inventory().Certs {
		got = append(got, c.Source.String())
	}
	if diff := cmp.Diff([]string{"ns/Secret/a ca.crt", "ns/Secret/b ca.crt"}, got); diff != "" {
		t.Errorf("certificates (-want +got):\n%s", diff)
	}
	if n := col.Objects(); n != 2 {
		t.Errorf("Objects() = %d, want 2", n)
	}
	if err := col.Page(cluster.Page{Resource: configMaps, Typed: &corev1.ConfigMapList{}}); err == nil || !strings.Contains(err.Error(), "configmaps") {
		t.Errorf("typed ConfigMapList: err = %v, want an error naming configmaps", err)
	}
}
