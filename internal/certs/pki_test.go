package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// now is the injected clock of every unit test.
var now = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// issued is a certificate with its key, made in-process.
type issued struct {
	cert *x509.Certificate
	key  crypto.Signer
}

type spec struct {
	cn        string
	ca        bool
	notBefore time.Time
	lifetime  time.Duration
	dns       []string
	ips       []net.IP
	uris      []*url.URL
	emails    []string
	ou        []string
	rsaBits   int // 0: ECDSA P-256
	sigAlg    x509.SignatureAlgorithm
}

var serial int64

func newKey(t *testing.T, bits int) crypto.Signer {
	t.Helper()
	if bits > 0 {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue makes a certificate signed by parent (self-signed when nil).
func issue(t *testing.T, s spec, parent *issued) issued {
	t.Helper()
	key := newKey(t, s.rsaBits)
	serial++
	nb := s.notBefore
	if nb.IsZero() {
		nb = now.Add(-5 * time.Minute)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: s.cn, OrganizationalUnit: s.ou},
		URIs:                  s.uris,
		EmailAddresses:        s.emails,
		NotBefore:             nb,
		NotAfter:              nb.Add(s.lifetime),
		DNSNames:              s.dns,
		IPAddresses:           s.ips,
		BasicConstraintsValid: true,
		IsCA:                  s.ca,
		SignatureAlgorithm:    s.sigAlg,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	if s.ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return issued{cert: c, key: key}
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func keyPEM(t *testing.T, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func writePair(t *testing.T, dir, name string, c issued) {
	t.Helper()
	writeFile(t, filepath.Join(dir, name+".crt"), certPEM(c.cert))
	writeFile(t, filepath.Join(dir, name+".key"), keyPEM(t, c.key))
}

func kubeconfig(t *testing.T, ca *x509.Certificate, user string, c issued) []byte {
	t.Helper()
	b64 := base64.StdEncoding.EncodeToString
	return []byte(`apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: ` + b64(certPEM(ca)) + `
users:
- name: ` + user + `
  user:
    client-certificate-data: ` + b64(certPEM(c.cert)) + `
    client-key-data: ` + b64(keyPEM(t, c.key)) + `
contexts:
- name: ` + user + `@kubernetes
  context: {cluster: kubernetes, user: ` + user + `}
current-context: ` + user + `@kubernetes
`)
}

// layout is a full kubeadm PKI with three-year leaves, written under a
// node root; options change single files.
type layout struct {
	root                     string
	ca, etcdCA, frontProxyCA issued
}

const threeYears = 3 * 365 * Day

func apiserverSANs() []string {
	return []string{"node-1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
}

// writeLayout writes the kubeadm layout. change may replace a leaf's spec
// (by kubeadm name) or its signer.
func writeLayout(t *testing.T, change func(name string, s *spec, signer **issued)) layout {
	t.Helper()
	root := t.TempDir()
	pki := filepath.Join(root, "etc", "kubernetes", "pki")
	l := layout{root: root}
	l.ca = issue(t, spec{cn: "kubernetes", ca: true, lifetime: 3650 * Day, rsaBits: 2048}, nil)
	l.etcdCA = issue(t, spec{cn: "etcd-ca", ca: true, lifetime: 3650 * Day}, nil)
	l.frontProxyCA = issue(t, spec{cn: "front-proxy-ca", ca: true, lifetime: 3650 * Day}, nil)
	writePair(t, pki, "ca", l.ca)
	writePair(t, pki, "etcd/ca", l.etcdCA)
	writePair(t, pki, "front-proxy-ca", l.frontProxyCA)
	leaves := []struct {
		name   string
		s      spec
		signer *issued
	}{
		{"apiserver", spec{cn: "kube-apiserver", lifetime: threeYears, dns: apiserverSANs(), ips: []net.IP{net.ParseIP("10.96.0.1"), net.ParseIP("10.0.0.1")},
			uris: []*url.URL{{Scheme: "spiffe", Host: "cluster.local", Path: "/ns/kube-system/sa/apiserver"}}, emails: []string{"platform@example.com"}, ou: []string{"control-plane"}}, &l.ca},
		{"apiserver-kubelet-client", spec{cn: "kube-apiserver-kubelet-client", lifetime: threeYears}, &l.ca},
		{"front-proxy-client", spec{cn: "front-proxy-client", lifetime: threeYears}, &l.frontProxyCA},
		{"etcd/server", spec{cn: "node-1", lifetime: threeYears, dns: []string{"node-1", "localhost"}}, &l.etcdCA},
		{"etcd/peer", spec{cn: "node-1", lifetime: threeYears}, &l.etcdCA},
		{"etcd/healthcheck-client", spec{cn: "kube-etcd-healthcheck-client", lifetime: threeYears}, &l.etcdCA},
		{"apiserver-etcd-client", spec{cn: "kube-apiserver-etcd-client", lifetime: threeYears}, &l.etcdCA},
	}
	for _, lf := range leaves {
		if change != nil {
			change(lf.name, &lf.s, &lf.signer)
		}
		writePair(t, pki, lf.name, issue(t, lf.s, lf.signer))
	}
	for _, kc := range []struct{ file, cn string }{
		{"admin.conf", "kubernetes-admin"}, {"super-admin.conf", "kubernetes-super-admin"},
		{"controller-manager.conf", "system:kube-controller-manager"}, {"scheduler.conf", "system:kube-scheduler"},
	} {
		s, signer := spec{cn: kc.cn, lifetime: threeYears}, &l.ca
		if change != nil {
			change(kc.file, &s, &signer)
		}
		writeFile(t, filepath.Join(root, "etc", "kubernetes", kc.file), kubeconfig(t, l.ca.cert, kc.cn, issue(t, s, signer)))
	}
	// The kubelet: a rotated client certificate behind a symlink, named by
	// kubelet.conf, and a self-signed serving certificate.
	kubeletPKI := filepath.Join(root, "var", "lib", "kubelet", "pki")
	kc := issue(t, spec{cn: "system:node:node-1", lifetime: 365 * Day}, &l.ca)
	writeFile(t, filepath.Join(kubeletPKI, "kubelet-client-2030-01-01.pem"), append(certPEM(kc.cert), keyPEM(t, kc.key)...))
	if err := os.Symlink("kubelet-client-2030-01-01.pem", filepath.Join(kubeletPKI, "kubelet-client-current.pem")); err != nil {
		t.Fatal(err)
	}
	writePair(t, kubeletPKI, "kubelet", issue(t, spec{cn: "node-1@1", lifetime: 365 * Day}, nil))
	writeFile(t, filepath.Join(root, "etc", "kubernetes", "kubelet.conf"), []byte(`apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: /etc/kubernetes/pki/ca.crt
users:
- name: default-auth
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem
contexts:
- name: default
  context: {cluster: kubernetes, user: default-auth}
current-context: default
`))
	sa := newKey(t, 2048)
	writeFile(t, filepath.Join(pki, "sa.key"), keyPEM(t, sa))
	pub, err := x509.MarshalPKIXPublicKey(sa.Public())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(pki, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	return l
}
