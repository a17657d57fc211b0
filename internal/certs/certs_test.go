package certs

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/manifest"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

// brief is a finding reduced to what the tests compare; paths are relative
// to the test's root.
type brief struct {
	Check, Severity, Where string
}

func briefs(root string, fs []finding.Finding) []brief {
	out := []brief{}
	for _, f := range fs {
		where := f.Where()
		if root != "" {
			where = strings.ReplaceAll(where, root+string(filepath.Separator), "")
		}
		out = append(out, brief{f.Check, f.Severity.String(), where})
	}
	return out
}

func readRoot(t *testing.T, root string) *Inventory {
	t.Helper()
	inv, err := ReadFiles(context.Background(), FileOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestKubeadmLayoutClean(t *testing.T) {
	l := writeLayout(t, nil)
	inv := readRoot(t, l.root)
	// 3 CAs, 7 leaves, 4 kubeconfig client certificates, the kubelet's
	// client (once, though kubelet.conf names it too) and serving certificates.
	if got, want := len(inv.Certs), 3+7+4+2; got != want {
		for _, c := range inv.Certs {
			t.Log(c.Source, c.Subject)
		}
		t.Fatalf("found %d certificates, want %d", got, want)
	}
	if fs := Judge(inv, DefaultPolicy(), now); len(fs) != 0 {
		t.Errorf("a healthy layout has findings: %v", briefs(l.root, fs))
	}
	names := map[string]bool{}
	for _, c := range inv.Certs {
		names[c.Name] = true
	}
	for _, n := range []string{"ca", "etcd/ca", "front-proxy-ca", "apiserver", "etcd/server", "admin.conf", "kubelet/kubelet-client-2030-01-01", "kubelet/kubelet"} {
		if !names[n] {
			t.Errorf("no certificate named %q", n)
		}
	}
	if len(inv.Pairs) < 12 {
		t.Errorf("only %d certificate/key pairs found", len(inv.Pairs))
	}
}

func TestKubeadmLayoutProblems(t *testing.T) {
	l := writeLayout(t, func(name string, s *spec, signer **issued) {
		switch name {
		case "etcd/server": // the second outage: one year among three-year siblings
			s.lifetime = 365 * Day
		case "apiserver": // a missing SAN and a weak key
			s.dns = []string{"node-1", "kubernetes", "kubernetes.default"}
			s.rsaBits = 1024
		case "scheduler.conf": // expires in 5 days
			s.notBefore = now.Add(-threeYears + 5*Day)
		case "admin.conf": // expired
			s.notBefore = now.Add(-threeYears - Day)
		}
	})
	pki := filepath.Join(l.root, "etc", "kubernetes", "pki")
	// A wrongly issued etcd certificate: signed by the cluster CA.
	writePair(t, pki, "etcd/healthcheck-client", issue(t, spec{cn: "kube-etcd-healthcheck-client", lifetime: threeYears}, &l.ca))
	// A key that does not belong to its certificate.
	writeFile(t, filepath.Join(pki, "front-proxy-client.key"), keyPEM(t, newKey(t, 0)))
	// A kubeconfig with an old CA.
	old := issue(t, spec{cn: "kubernetes", ca: true, lifetime: 3650 * Day}, nil)
	writeFile(t, filepath.Join(l.root, "etc", "kubernetes", "controller-manager.conf"),
		kubeconfig(t, old.cert, "system:kube-controller-manager", issue(t, spec{cn: "system:kube-controller-manager", lifetime: threeYears}, &l.ca)))
	// An sa.pub that is not sa.key's.
	other := newKey(t, 0)
	der, _ := x509.MarshalPKIXPublicKey(other.Public())
	writeFile(t, filepath.Join(pki, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))

	// kubelet.conf names a CA file that is not the cluster CA.
	writeFile(t, filepath.Join(l.root, "etc", "kubernetes", "old-ca.crt"), certPEM(old.cert))
	kubeletConf := filepath.Join(l.root, "etc", "kubernetes", "kubelet.conf")
	data, err := os.ReadFile(kubeletConf)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, kubeletConf, bytes.Replace(data, []byte("/etc/kubernetes/pki/ca.crt"), []byte("/etc/kubernetes/old-ca.crt"), 1))

	got := briefs(l.root, Judge(readRoot(t, l.root), DefaultPolicy(), now))
	want := []brief{
		{ExpiryCheck, "critical", "etc/kubernetes/admin.conf"},
		{ExpiryCheck, "critical", "etc/kubernetes/scheduler.conf"},
		{APIServerSAN, "high", "etc/kubernetes/pki/apiserver.crt"},
		{ChainCheck, "high", "etc/kubernetes/pki/etcd/healthcheck-client.crt"},
		{KeyMismatchCheck, "high", "etc/kubernetes/pki/front-proxy-client.crt"},
		{KeyMismatchCheck, "high", "etc/kubernetes/pki/sa.pub"},
		{KubeconfigCheck, "high", "etc/kubernetes/controller-manager.conf"},
		{KubeconfigCheck, "high", "etc/kubernetes/kubelet.conf"},
		{LifetimeCheck, "high", "etc/kubernetes/pki/etcd/server.crt"},
		{WeakCryptoCheck, "medium", "etc/kubernetes/pki/apiserver.crt"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestExpiryThresholds(t *testing.T) {
	ca := issue(t, spec{cn: "ca", ca: true, lifetime: 3650 * Day}, nil)
	cases := []struct {
		name string
		s    spec
		want string // severity, or "" for none
	}{
		{"leaf with 60 days left", spec{cn: "a", lifetime: 60 * Day}, ""},
		{"leaf with 20 days left", spec{cn: "a", lifetime: 20 * Day}, "high"},
		{"leaf with 5 days left", spec{cn: "a", lifetime: 5 * Day}, "critical"},
		{"expired leaf", spec{cn: "a", notBefore: now.Add(-10 * Day), lifetime: 5 * Day}, "critical"},
		{"leaf not yet valid", spec{cn: "a", notBefore: now.Add(Day), lifetime: 365 * Day}, "critical"},
		{"CA with 400 days left", spec{cn: "b", ca: true, lifetime: 400 * Day}, ""},
		{"CA with 200 days left", spec{cn: "b", ca: true, lifetime: 200 * Day}, "high"},
		{"CA with 60 days left", spec{cn: "b", ca: true, lifetime: 60 * Day}, "critical"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c issued
			if tc.s.ca {
				c = issue(t, tc.s, nil)
			} else {
				c = issue(t, tc.s, &ca)
			}
			inv := &Inventory{Certs: []Cert{{Certificate: c.cert, Source: Source{Kind: KindFile, Path: "x.crt"}}}}
			fs := JudgeOne(ExpiryCheck, inv, DefaultPolicy(), now)
			got := ""
			if len(fs) > 1 {
				t.Fatalf("%d findings, want at most one", len(fs))
			}
			if len(fs) == 1 {
				got = fs[0].Severity.String()
				if fs[0].Location == nil || fs[0].Location.Path != "x.crt" {
					t.Errorf("finding does not name the file: %+v", fs[0])
				}
			}
			if got != tc.want {
				t.Errorf("severity %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLifetimeAgainstPolicy(t *testing.T) {
	ca := issue(t, spec{cn: "ca", ca: true, lifetime: 3650 * Day}, nil)
	mk := func(path string, lifetime time.Duration) Cert {
		return Cert{Certificate: issue(t, spec{cn: path, lifetime: lifetime}, &ca).cert, Source: Source{Kind: KindFile, Path: path}}
	}
	// Two certificates only: no sibling majority, so only the policy judges.
	inv := &Inventory{Certs: []Cert{mk("one-year.crt", 365*Day+5*time.Minute), mk("three-years.crt", threeYears)}}
	if fs := JudgeOne(LifetimeCheck, inv, DefaultPolicy(), now); len(fs) != 0 {
		t.Errorf("without a policy or a sibling majority: %v", briefs("", fs))
	}
	p := DefaultPolicy()
	p.ExpectValidity = threeYears
	got := briefs("", JudgeOne(LifetimeCheck, inv, p, now))
	if diff := cmp.Diff([]brief{{LifetimeCheck, "high", "one-year.crt"}}, got); diff != "" {
		t.Errorf("--expect-validity 3y (-want +got):\n%s", diff)
	}
	// The kubeadm configuration stands in when no flag is given.
	kv, err := ParseKubeadmValidity([]byte("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificateValidityPeriod: 8760h\ncaCertificateValidityPeriod: 87600h\n"), "kubeadm.yaml")
	if err != nil || kv == nil || kv.Leaf != 365*Day || kv.CA != 3650*Day {
		t.Fatalf("ParseKubeadmValidity = %+v, %v", kv, err)
	}
	inv.KubeadmConfig = kv
	got = briefs("", JudgeOne(LifetimeCheck, inv, DefaultPolicy(), now))
	if diff := cmp.Diff([]brief{{LifetimeCheck, "high", "three-years.crt"}}, got); diff != "" {
		t.Errorf("kubeadm certificateValidityPeriod 8760h (-want +got):\n%s", diff)
	}
}

func TestOutlivesCA(t *testing.T) {
	ca := issue(t, spec{cn: "short-ca", ca: true, lifetime: 500 * Day}, nil)
	leaf := issue(t, spec{cn: "long-leaf", lifetime: 900 * Day}, &ca)
	inv := &Inventory{Certs: []Cert{
		{Certificate: ca.cert, Source: Source{Kind: KindFile, Path: "ca.crt"}},
		{Certificate: leaf.cert, Source: Source{Kind: KindFile, Path: "leaf.crt"}},
	}}
	got := briefs("", JudgeOne(ChainCheck, inv, DefaultPolicy(), now))
	if diff := cmp.Diff([]brief{{ChainCheck, "medium", "leaf.crt"}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSHA1(t *testing.T) {
	ca := issue(t, spec{cn: "ca", ca: true, lifetime: 3650 * Day, rsaBits: 2048}, nil)
	leaf := issue(t, spec{cn: "old", lifetime: 365 * Day, rsaBits: 2048, sigAlg: x509.SHA1WithRSA}, &ca)
	inv := &Inventory{Certs: []Cert{{Certificate: leaf.cert, Source: Source{Kind: KindFile, Path: "old.crt"}}}}
	fs := JudgeOne(WeakCryptoCheck, inv, DefaultPolicy(), now)
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "SHA1") {
		t.Errorf("want one SHA-1 finding, got %v", fs)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	ca := issue(t, spec{cn: "ca", ca: true, lifetime: 3650 * Day}, nil)
	good := issue(t, spec{cn: "good", lifetime: 5 * Day}, &ca)
	writeFile(t, filepath.Join(dir, "good.crt"), certPEM(good.cert))
	full := certPEM(good.cert)
	writeFile(t, filepath.Join(dir, "truncated.crt"), full[:len(full)/2])
	writeFile(t, filepath.Join(dir, "garbage.der"), []byte("\x30\x82\x01\x00 this is not DER"))
	enc := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("opaque")})
	writeFile(t, filepath.Join(dir, "encrypted.key"), enc)
	if err := os.Symlink("loop-b.pem", filepath.Join(dir, "loop-a.pem")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop-a.pem", filepath.Join(dir, "loop-b.pem")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "missing.kubeconfig"), []byte(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://x:6443", certificate-authority: ca-gone.crt}
users:
- name: u
  user: {client-certificate: gone.crt, client-key: gone.key}
contexts: [{name: c, context: {cluster: c, user: u}}]
`))
	unreadable := filepath.Join(dir, "unreadable.crt")
	writeFile(t, unreadable, certPEM(good.cert))
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	rootUser := os.Geteuid() == 0
	// Root reads any file whatever its mode; /proc/self/mem fails to read
	// for everyone (EIO at offset 0).
	procMem := runtime.GOOS == "linux"
	if procMem {
		if err := os.Symlink("/proc/self/mem", filepath.Join(dir, "mem.pem")); err != nil {
			t.Fatal(err)
		}
	}

	inv, err := ReadFiles(context.Background(), FileOptions{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	fs := Judge(inv, DefaultPolicy(), now)
	got := map[string]string{}
	for _, f := range fs {
		where := strings.TrimPrefix(f.Where(), dir+string(filepath.Separator))
		got[f.Check+" "+where] = f.Message
	}
	for _, want := range []string{
		ExpiryCheck + " good.crt", // the scan went on
		UnreadableCheck + " truncated.crt",
		UnreadableCheck + " garbage.der",
		UnreadableCheck + " encrypted.key",
		UnreadableCheck + " loop-a.pem",
		UnreadableCheck + " loop-b.pem",
		UnreadableCheck + " missing.kubeconfig",
	} {
		if _, ok := got[want]; !ok {
			t.Errorf("no finding %q; got %v", want, got)
		}
	}
	if !strings.Contains(got[UnreadableCheck+" loop-a.pem"], "symlink loop") {
		t.Errorf("loop-a.pem: %q", got[UnreadableCheck+" loop-a.pem"])
	}
	if msg := got[UnreadableCheck+" missing.kubeconfig"]; !strings.Contains(msg, "gone.") && !strings.Contains(msg, "ca-gone.crt") {
		t.Errorf("missing.kubeconfig: %q", msg)
	}
	if msg, ok := got[UnreadableCheck+" mem.pem"]; procMem && (!ok || !strings.Contains(msg, "cannot read")) {
		t.Errorf("no finding for the unreadable mem.pem: %q", msg)
	}
	if _, ok := got[UnreadableCheck+" unreadable.crt"]; !ok && !rootUser {
		t.Errorf("no finding for the unreadable file")
	}
	for _, f := range fs {
		if strings.Contains(f.Message, "PRIVATE KEY-----") || strings.Contains(f.Message, "opaque") {
			t.Errorf("a finding shows file content: %q", f.Message)
		}
	}
}

func TestPKCS12AndDER(t *testing.T) {
	ca := issue(t, spec{cn: "ca", ca: true, lifetime: 3650 * Day}, nil)
	leaf := issue(t, spec{cn: "p12-leaf", lifetime: 20 * Day, rsaBits: 2048}, &ca)
	p12, err := pkcs12.Modern.Encode(leaf.key, leaf.cert, []*x509.Certificate{ca.cert}, "")
	if err != nil {
		t.Fatal(err)
	}
	locked, err := pkcs12.Modern.Encode(leaf.key, leaf.cert, nil, "secret")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bundle.p12"), p12)
	writeFile(t, filepath.Join(dir, "locked.pfx"), locked)
	writeFile(t, filepath.Join(dir, "leaf.der"), leaf.cert.Raw)
	inv, err := ReadFiles(context.Background(), FileOptions{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, c := range inv.Certs {
		subjects = append(subjects, filepath.Base(c.Source.Path)+" "+c.Subject.CommonName)
	}
	if diff := cmp.Diff([]string{"bundle.p12 p12-leaf", "bundle.p12 ca", "leaf.der p12-leaf"}, subjects); diff != "" {
		t.Errorf("certificates (-want +got):\n%s", diff)
	}
	if len(inv.Problems) != 1 || !strings.Contains(inv.Problems[0].Reason, "password") {
		t.Errorf("problems: %+v", inv.Problems)
	}
	if len(inv.Pairs) != 1 || len(JudgeOne(KeyMismatchCheck, inv, DefaultPolicy(), now)) != 0 {
		t.Errorf("the PKCS#12 key should pair with its certificate: %+v", inv.Pairs)
	}
}

func TestFromSnapshotManifests(t *testing.T) {
	ca := issue(t, spec{cn: "webhook-ca", ca: true, lifetime: 3650 * Day}, nil)
	leaf := issue(t, spec{cn: "shop.example.com", lifetime: 10 * Day, dns: []string{"shop.example.com"}}, &ca)
	otherCA := issue(t, spec{cn: "other-ca", ca: true, lifetime: 60 * Day}, nil)
	b64 := func(b []byte) string { return base64Std(b) }
	doc := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: shop-tls, namespace: shop}
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
  ca.crt: %s
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: policy}
webhooks:
- name: check.example.com
  clientConfig:
    caBundle: %s
---
apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: node-csr}
spec: {request: "", signerName: kubernetes.io/kube-apiserver-client, usages: [client auth]}
status:
  certificate: %s
---
apiVersion: v1
kind: ConfigMap
metadata: {name: trust, namespace: shop}
data:
  bundle.pem: |
%s
  other: not a certificate
`, b64(certPEM(leaf.cert)), b64(keyPEM(t, leaf.key)), b64(certPEM(otherCA.cert)), b64(certPEM(ca.cert)), b64(certPEM(leaf.cert)),
		indent(string(certPEM(ca.cert)), "    "))
	objs, invalid, err := manifest.NewDecoder(manifest.Options{}).Decode(context.Background(), strings.NewReader(doc), "estate.yaml")
	if err != nil || len(invalid) > 0 {
		t.Fatalf("decode: %v %+v", err, invalid)
	}
	snap := &snapshot.Snapshot{Source: snapshot.SourceFiles, Objects: objs}
	inv := FromSnapshot(snap)
	if len(inv.Certs) != 5 {
		t.Fatalf("found %d certificates, want 5", len(inv.Certs))
	}
	got := briefs("", Judge(inv, DefaultPolicy(), now))
	want := []brief{
		{ExpiryCheck, "critical", "estate.yaml:1 (shop/Secret/shop-tls)"},
		{ChainCheck, "high", "estate.yaml:1 (shop/Secret/shop-tls)"},
		{ExpiryCheck, "high", "estate.yaml:1 (shop/Secret/shop-tls)"},
		{ExpiryCheck, "high", "estate.yaml:18 (CertificateSigningRequest/node-csr)"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	// The same through the finding.Check values scan runs.
	var viaChecks []finding.Finding
	for _, c := range ChecksWith(DefaultPolicy(), func() time.Time { return now }) {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		fs, err := c.Run(context.Background(), snap)
		if err != nil {
			t.Fatal(err)
		}
		viaChecks = append(viaChecks, fs...)
	}
	finding.Sort(viaChecks)
	if diff := cmp.Diff(want, briefs("", viaChecks)); diff != "" {
		t.Errorf("via Checks (-want +got):\n%s", diff)
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

func TestMetrics(t *testing.T) {
	// Fixed certificates so that the golden file is stable.
	mk := func(cn string, ca bool, nb time.Time, life time.Duration, serial int64) *x509.Certificate {
		return &x509.Certificate{Subject: pkixName(cn), Issuer: pkixName("kubernetes"), NotBefore: nb, NotAfter: nb.Add(life), SerialNumber: bigInt(serial), BasicConstraintsValid: true, IsCA: ca}
	}
	inv := &Inventory{
		Certs: []Cert{
			{Certificate: mk("kubernetes", true, now.Add(-Day), 3650*Day, 1), Source: Source{Kind: KindFile, Path: "/etc/kubernetes/pki/ca.crt"}, Name: "ca"},
			{Certificate: mk("shop \"tls\"", false, now.Add(-100*Day), 90*Day, 2), Source: Source{Kind: KindObject, Object: &finding.Object{APIVersion: "v1", Kind: "Secret", Namespace: "shop", Name: "shop-tls"}, Field: "tls.crt"}},
		},
		Problems: []Problem{{Source: Source{Kind: KindFile, Path: "x"}, Reason: "r"}},
	}
	var b bytes.Buffer
	if err := WriteMetrics(&b, inv, now); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "metrics.prom", b.Bytes())

	path := filepath.Join(t.TempDir(), "certs.prom")
	if err := WriteMetricsFile(path, inv, now); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); !bytes.Equal(data, b.Bytes()) {
		t.Errorf("metrics file differs from WriteMetrics output")
	}
	// A failed write keeps the previous file.
	if err := WriteMetricsFile(filepath.Join(path, "no-such-dir", "x.prom"), inv, now); err == nil {
		t.Errorf("writing into a missing directory did not fail")
	}
	if data, _ := os.ReadFile(path); !bytes.Equal(data, b.Bytes()) {
		t.Errorf("the previous metrics file was changed by a failed write")
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * Day, "3y": 3 * 365 * Day, "720h": 720 * time.Hour} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "3x", "d", "1.5d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) did not fail", bad)
		}
	}
}

func TestCertManagerRequestedDuration(t *testing.T) {
	ca := issue(t, spec{cn: "acme", ca: true, lifetime: 3650 * Day}, nil)
	leaf := issue(t, spec{cn: "shop.example.com", lifetime: 90 * Day}, &ca)
	ok := issue(t, spec{cn: "api.example.com", lifetime: 30 * Day}, &ca)
	doc := fmt.Sprintf(`apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: shop, namespace: shop}
spec: {secretName: shop-tls, duration: 8760h, issuerRef: {name: acme}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: api, namespace: shop}
spec: {secretName: api-tls, duration: 720h, issuerRef: {name: acme}}
---
apiVersion: v1
kind: Secret
metadata: {name: shop-tls, namespace: shop}
type: kubernetes.io/tls
data: {tls.crt: %s}
---
apiVersion: v1
kind: Secret
metadata: {name: api-tls, namespace: shop}
type: kubernetes.io/tls
data: {tls.crt: %s}
`, base64Std(certPEM(leaf.cert)), base64Std(certPEM(ok.cert)))
	objs, invalid, err := manifest.NewDecoder(manifest.Options{}).Decode(context.Background(), strings.NewReader(doc), "cm.yaml")
	if err != nil || len(invalid) > 0 {
		t.Fatalf("decode: %v %+v", err, invalid)
	}
	inv := FromSnapshot(&snapshot.Snapshot{Objects: objs})
	got := briefs("", JudgeOne(LifetimeCheck, inv, DefaultPolicy(), now))
	if diff := cmp.Diff([]brief{{LifetimeCheck, "high", "cm.yaml:11 (shop/Secret/shop-tls)"}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestKubeconfigByPath(t *testing.T) {
	ca := issue(t, spec{cn: "old-ca", ca: true, notBefore: now.Add(-3650 * Day), lifetime: 3650*Day + 30*Day}, nil)
	user := issue(t, spec{cn: "ci", lifetime: 365 * Day}, &ca)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ci.kubeconfig"), kubeconfig(t, ca.cert, "ci", user))
	inv, err := ReadFiles(context.Background(), FileOptions{Paths: []string{filepath.Join(dir, "ci.kubeconfig")}})
	if err != nil {
		t.Fatal(err)
	}
	got := briefs(dir, Judge(inv, DefaultPolicy(), now))
	want := []brief{
		{ExpiryCheck, "critical", "ci.kubeconfig"}, // the CA: 30 days left
		{ChainCheck, "medium", "ci.kubeconfig"},    // the user's certificate outlives it
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(inv.Pairs) != 1 || len(JudgeOne(KeyMismatchCheck, inv, DefaultPolicy(), now)) != 0 {
		t.Errorf("the kubeconfig's client certificate and key should pair: %+v", inv.Pairs)
	}
}

// TestPublicFields checks that the public key read from a private key's
// public fields is the one a full parse derives, for every encoding kubeadm
// and cert-manager write.
func TestPublicFields(t *testing.T) {
	rsaKey, ecKey := newKey(t, 2048), newKey(t, 0)
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsaKey.(*rsa.PrivateKey))
	sec1, err := x509.MarshalECPrivateKey(ecKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	rsa8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	ec8, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	for _, tc := range []struct {
		name, typ string
		der       []byte
		want      crypto.PublicKey
	}{
		{"rsa pkcs1", "RSA PRIVATE KEY", pkcs1, rsaKey.Public()},
		{"rsa pkcs8", "PRIVATE KEY", rsa8, rsaKey.Public()},
		{"ec sec1", "EC PRIVATE KEY", sec1, ecKey.Public()},
		{"ec pkcs8", "PRIVATE KEY", ec8, ecKey.Public()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := publicFields(tc.typ, tc.der)
			if !ok {
				t.Fatal("no public fields read")
			}
			if !samePublicKey(tc.want, got) {
				t.Error("public key differs from the private key's")
			}
			if samePublicKey(newKey(t, 0).Public(), got) {
				t.Error("matches an unrelated key")
			}
		})
	}
	if _, ok := publicFields("RSA PRIVATE KEY", []byte("garbage")); ok {
		t.Error("garbage read as a key")
	}
}
