package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shipshape-dev/shipshape/internal/certs"
	"github.com/shipshape-dev/shipshape/internal/cluster"
	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/sandboxtest"
)

func TestCertsFlags(t *testing.T) {
	streams, _, _ := testStreams("")
	var got *CertsOptions
	cmd := NewCmdCerts(&Globals{Streams: streams}, func(_ context.Context, o *CertsOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--root", "/node", "--path", "a.pem", "--path", "dir", "--endpoint", "etcd:2379", "--expect-validity", "3y", "--metrics-file", "m.prom"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Root != "/node" || strings.Join(got.Paths, ",") != "a.pem,dir" || got.Endpoints[0] != "etcd:2379" || got.MetricsFile != "m.prom" {
		t.Errorf("options: %+v", got)
	}
	p, err := got.policy(cmd)
	if err != nil || p.ExpectValidity != 3*365*24*time.Hour || p.LeafHigh != 30*24*time.Hour || p.CACritical != 90*24*time.Hour {
		t.Errorf("policy %+v, %v", p, err)
	}
	// A config file fills what the command line did not set.
	cfgFile := filepath.Join(t.TempDir(), "certs.yaml")
	if err := os.WriteFile(cfgFile, []byte("leafHigh: 45d\nexpectValidity: 1y\ncaCritical: 180d\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	streams, _, _ = testStreams("")
	cmd = NewCmdCerts(&Globals{Streams: streams}, func(_ context.Context, o *CertsOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--config", cfgFile, "--expect-validity", "2y"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	p, err = got.policy(cmd)
	day := 24 * time.Hour
	if err != nil || p.LeafHigh != 45*day || p.CACritical != 180*day || p.ExpectValidity != 2*365*day || p.LeafCritical != 7*day {
		t.Errorf("policy from --config: %+v, %v", p, err)
	}
	if err := os.WriteFile(cfgFile, []byte("leafHigh: 45d\nnoSuchKey: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := got.policy(cmd); !errors.As(err, new(*usageError)) {
		t.Errorf("an unknown key in --config is not a usage error: %v", err)
	}
	got.ConfigFile = ""
	got.LeafHigh = "soon"
	var ue *usageError
	if _, err := got.policy(nil); !errors.As(err, &ue) {
		t.Errorf("a bad threshold is not a usage error: %v", err)
	}
}

// leafPEM makes a certificate for name signed by a throwaway CA that expires
// after lifetime, and the CA's PEM.
func leafPEM(t *testing.T, name string, lifetime time.Duration) (certPEM, keyPEM, caPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + "-ca"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(3650 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(lifetime - time.Hour), BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, lt, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

// TestCertsSandbox runs `shipshape certs` on a dedicated sandbox whose PKI
// holds an etcd certificate issued for a different lifetime than its
// siblings, a certificate that expires in five days and one issued by the
// wrong CA, with a TLS Secret, a webhook caBundle and an issued CSR in the API.
func TestCertsSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the sandbox control plane; runs without -short")
	}
	ctx := context.Background()
	env, err := sandboxtest.Start(ctx, sandboxtest.Options{
		CertValidity: map[string]string{
			"etcd/server": "365d", "etcd/peer": "1095d", "etcd/healthcheck-client": "1095d", "apiserver-etcd-client": "1095d",
			"apiserver-kubelet-client": "5d",
		},
		CertSigner: map[string]string{"front-proxy-client": "ca"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	cs := env.Clientset(t)

	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	crt, key, ca := leafPEM(t, "shop.example.com", 3*24*time.Hour)
	if _, err := cs.CoreV1().Secrets("shop").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": crt, "tls.key": key, "ca.crt": ca},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, _, hookCA := leafPEM(t, "hook", 365*24*time.Hour)
	ignore, none, path := admissionv1.Ignore, admissionv1.SideEffectClassNone, "/validate"
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, &admissionv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "policy"},
		Webhooks: []admissionv1.ValidatingWebhook{{
			Name: "check.example.com", FailurePolicy: &ignore, SideEffects: &none, AdmissionReviewVersions: []string{"v1"},
			ClientConfig: admissionv1.WebhookClientConfig{CABundle: hookCA, Service: &admissionv1.ServiceReference{Namespace: "shop", Name: "hook", Path: &path}},
			Rules:        []admissionv1.RuleWithOperations{{Operations: []admissionv1.OperationType{admissionv1.Create}, Rule: admissionv1.Rule{APIGroups: []string{"example.com"}, APIVersions: []string{"v1"}, Resources: []string{"widgets"}}}},
		}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A CSR the controller manager's signer issues once approved.
	csrKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	req, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "jane", Organization: []string{"dev"}}}, csrKey)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := cs.CertificatesV1().CertificateSigningRequests().Create(ctx, &certv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "jane"},
		Spec: certv1.CertificateSigningRequestSpec{
			Request: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: req}), SignerName: certv1.KubeAPIServerClientSignerName,
			Usages: []certv1.KeyUsage{certv1.UsageClientAuth, certv1.UsageDigitalSignature},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	csr.Status.Conditions = append(csr.Status.Conditions, certv1.CertificateSigningRequestCondition{Type: certv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "Test", Message: "approved by the test"})
	if _, err := cs.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, "jane", csr, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	sandboxtest.Eventually(t, time.Minute, "the CSR to be issued", func() error {
		c, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, "jane", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(c.Status.Certificate) == 0 {
			return errors.New("no certificate yet")
		}
		return nil
	})

	// The live sources, as the certs command reads them.
	target, err := cluster.ConfigFlags{Kubeconfig: env.Kubeconfig(), AllNamespaces: true}.Load()
	if err != nil {
		t.Fatal(err)
	}
	snap, err := cluster.Snapshot(ctx, target, cluster.SnapshotOptions{Resources: certs.Resources()})
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]bool{}
	for _, c := range certs.FromSnapshot(snap).Certs {
		sources[c.Source.String()] = true
	}
	for _, want := range []string{
		"shop/Secret/shop-tls tls.crt",
		"shop/Secret/shop-tls ca.crt",
		"ValidatingWebhookConfiguration/policy webhooks[check.example.com].clientConfig.caBundle",
		"CertificateSigningRequest/jane status.certificate",
	} {
		if !sources[want] {
			t.Errorf("no certificate from %s; found %v", want, sources)
		}
	}

	streams, out, errb := testStreams("")
	code := Main(ctx, []string{"certs", "--root", env.Dir(), "--kubeconfig", env.Kubeconfig(), "-o", "json"}, streams)
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFindings, errb)
	}
	var r finding.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, f := range r.Findings {
		got[f.Check+" "+strings.TrimPrefix(f.Where(), env.Dir())] = f.Severity.String()
	}
	for want, sev := range map[string]string{
		"certs/lifetime /etc/kubernetes/pki/etcd/server.crt":              "high",
		"certs/expiry /etc/kubernetes/pki/apiserver-kubelet-client.crt":   "critical",
		"certs/lifetime /etc/kubernetes/pki/apiserver-kubelet-client.crt": "high",
		"certs/chain /etc/kubernetes/pki/front-proxy-client.crt":          "high",
		"certs/expiry shop/Secret/shop-tls":                               "critical",
	} {
		if got[want] != sev {
			t.Errorf("finding %q: severity %q, want %q", want, got[want], sev)
		}
	}
	for k := range got {
		if strings.HasPrefix(k, "certs/apiserver-san") || strings.HasPrefix(k, "certs/unreadable") || strings.HasPrefix(k, "certs/key-mismatch") {
			t.Errorf("unexpected finding %s", k)
		}
	}

	// Renew the outlier with the siblings' validity; a rescan no longer
	// reports it, and the old file is in the backup folder.
	streams, out, errb = testStreams("")
	if code := Main(ctx, []string{"certs", "renew", "--root", env.Dir(), "--only", "etcd/server", "--validity", "1095d"}, streams); code != ExitOK {
		t.Fatalf("renew: exit %d; stderr:\n%s", code, errb)
	}
	if !strings.Contains(out.String(), "renewed etcd/server") || !strings.Contains(out.String(), "restart: etcd") {
		t.Errorf("renew output:\n%s", out)
	}
	streams, out, errb = testStreams("")
	if code := Main(ctx, []string{"certs", "--root", env.Dir(), "--no-cluster", "-o", "json", "--fail-on", "none"}, streams); code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errb)
	}
	if strings.Contains(out.String(), "etcd/server.crt") {
		t.Errorf("etcd/server still reported after renewal:\n%s", out)
	}

	// The table lists the live API server's serving certificate too.
	streams, out, errb = testStreams("")
	if code := Main(ctx, []string{"certs", "--root", env.Dir(), "--kubeconfig", env.Kubeconfig(), "--fail-on", "none"}, streams); code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errb)
	}
	if !strings.Contains(out.String(), "CN=kube-apiserver") || !strings.Contains(out.String(), " apiserver\n") {
		t.Errorf("the table does not show the API server's serving chain:\n%s", out)
	}
}

// TestCertsFilesAndDeadEndpoint needs no cluster: a certificate file, an
// endpoint nobody listens on, and the metrics file.
func TestCertsFilesAndDeadEndpoint(t *testing.T) {
	dir := t.TempDir()
	crt, _, _ := leafPEM(t, "soon.example.com", 3*24*time.Hour)
	if err := os.WriteFile(filepath.Join(dir, "soon.crt"), crt, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	metricsFile := filepath.Join(dir, "certs.prom")
	streams, out, errb := testStreams("")
	code := Main(context.Background(), []string{"certs", "--no-cluster", "--path", dir, "--endpoint", dead, "--metrics-file", metricsFile, "-o", "json"}, streams)
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFindings, errb)
	}
	var r finding.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, f := range r.Findings {
		got[f.Check] += f.Severity.String() + " " + f.Message + "\n"
	}
	if !strings.Contains(got["certs/expiry"], "critical") || !strings.Contains(got["certs/unreadable"], dead+": TLS handshake failed") {
		t.Errorf("findings: %v", got)
	}
	if !r.Partial {
		t.Error("a failed endpoint does not mark the report partial")
	}
	m, err := os.ReadFile(metricsFile)
	if err != nil || !strings.Contains(string(m), `shipshape_certificate_not_after_timestamp_seconds{ca="false"`) || !strings.Contains(string(m), "shipshape_certificate_read_errors 1") {
		t.Errorf("metrics file (%v):\n%s", err, m)
	}
}
