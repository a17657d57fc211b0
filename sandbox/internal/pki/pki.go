// Package pki creates and reuses a kubeadm-style public key infrastructure
// for the sandbox control plane: the certificate authorities, the component
// certificates under etc/kubernetes/pki and the service-account key pair.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Default validity periods, matching kubeadm.
const (
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
	DefaultLeafValidity = 365 * 24 * time.Hour
	// DefaultBackdate is subtracted from "now" to form NotBefore when no
	// explicit offset is configured, tolerating small clock skew.
	DefaultBackdate = 5 * time.Minute
)

// Well-known identities used by kubeadm.
const (
	ClusterAdminsGroup = "kubeadm:cluster-admins"
	SystemMastersGroup = "system:masters"
	NodesGroup         = "system:nodes"
)

// KeyType selects the private key algorithm for generated keys.
type KeyType string

// Supported key types.
const (
	KeyRSA   KeyType = "rsa"
	KeyECDSA KeyType = "ecdsa"
)

// ParseKeyType validates a --key-type value.
func ParseKeyType(s string) (KeyType, error) {
	switch KeyType(strings.ToLower(s)) {
	case KeyRSA, "rsa-2048", "":
		return KeyRSA, nil
	case KeyECDSA, "ecdsa-p256":
		return KeyECDSA, nil
	}
	return "", fmt.Errorf("unknown key type %q (want rsa or ecdsa)", s)
}

// Usage is the extended key usage class of a certificate.
type Usage int

// Certificate usage classes.
const (
	UsageCA Usage = iota
	UsageServer
	UsageClient
	UsageServerClient
)

// Spec describes one certificate the sandbox manages.
type Spec struct {
	// Name identifies the certificate. For files under pki it is the path
	// relative to the pki directory without extension ("apiserver",
	// "etcd/server"); for kubeconfig client certificates it is the file
	// name ("admin.conf").
	Name         string
	Signer       string // Name of the signing CA; empty for a CA
	CommonName   string
	Organization []string
	Usage        Usage
	DNSNames     []string
	IPs          []net.IP
	// Kubeconfig is true for client certificates embedded in a kubeconfig.
	Kubeconfig bool
}

// IsCA reports whether the spec describes a certificate authority.
func (s Spec) IsCA() bool { return s.Usage == UsageCA }

// Config holds the inputs needed to lay out the PKI.
type Config struct {
	// NodeName is used as the etcd certificate common name and as an
	// apiserver SAN, as kubeadm does with the node name.
	NodeName string
	// AdvertiseIP is the API server address included in its SANs.
	AdvertiseIP net.IP
	// ServiceIP is the first address of the service CIDR.
	ServiceIP net.IP
	// DNSDomain is the cluster DNS domain, normally cluster.local.
	DNSDomain string
	KeyType   KeyType
	// Validity overrides the validity period per certificate name.
	Validity map[string]time.Duration
	// NotBefore shifts NotBefore relative to now per certificate name;
	// NotAfter is always NotBefore plus the validity.
	NotBefore map[string]time.Duration
	// Signer overrides the issuing CA per certificate name, to create
	// deliberately wrongly-issued certificates.
	Signer map[string]string
	// Regenerate discards every existing file and creates a fresh PKI.
	Regenerate bool
	// Now is the reference time; zero means time.Now.
	Now time.Time
	// Log receives one line per notable action; may be nil.
	Log io.Writer
}

// Specs returns every certificate the sandbox manages, CAs first.
func Specs(c Config) []Spec {
	node := c.NodeName
	domain := c.DNSDomain
	if domain == "" {
		domain = "cluster.local"
	}
	loopback := []net.IP{net.ParseIP("127.0.0.1").To4(), net.ParseIP("::1")}
	apiIPs := []net.IP{}
	if c.ServiceIP != nil {
		apiIPs = append(apiIPs, c.ServiceIP)
	}
	if c.AdvertiseIP != nil {
		apiIPs = append(apiIPs, c.AdvertiseIP)
	}
	apiIPs = appendIPUnique(apiIPs, net.ParseIP("127.0.0.1").To4())
	return []Spec{
		{Name: "ca", CommonName: "kubernetes", Usage: UsageCA},
		{Name: "front-proxy-ca", CommonName: "front-proxy-ca", Usage: UsageCA},
		{Name: "etcd/ca", CommonName: "etcd-ca", Usage: UsageCA},
		{
			Name: "apiserver", Signer: "ca", CommonName: "kube-apiserver", Usage: UsageServer,
			DNSNames: []string{
				node, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
				"kubernetes.default.svc." + domain, "localhost",
			},
			IPs: apiIPs,
		},
		{
			Name: "apiserver-kubelet-client", Signer: "ca", CommonName: "kube-apiserver-kubelet-client",
			Organization: []string{ClusterAdminsGroup}, Usage: UsageClient,
		},
		{Name: "front-proxy-client", Signer: "front-proxy-ca", CommonName: "front-proxy-client", Usage: UsageClient},
		{
			Name: "etcd/server", Signer: "etcd/ca", CommonName: node, Usage: UsageServerClient,
			DNSNames: []string{node, "localhost"}, IPs: loopback,
		},
		{
			Name: "etcd/peer", Signer: "etcd/ca", CommonName: node, Usage: UsageServerClient,
			DNSNames: []string{node, "localhost"}, IPs: loopback,
		},
		{Name: "etcd/healthcheck-client", Signer: "etcd/ca", CommonName: "kube-etcd-healthcheck-client", Usage: UsageClient},
		{Name: "apiserver-etcd-client", Signer: "etcd/ca", CommonName: "kube-apiserver-etcd-client", Usage: UsageClient},
		{
			Name: "admin.conf", Signer: "ca", CommonName: "kubernetes-admin",
			Organization: []string{ClusterAdminsGroup}, Usage: UsageClient, Kubeconfig: true,
		},
		{
			Name: "super-admin.conf", Signer: "ca", CommonName: "kubernetes-super-admin",
			Organization: []string{SystemMastersGroup}, Usage: UsageClient, Kubeconfig: true,
		},
		{
			Name: "controller-manager.conf", Signer: "ca", CommonName: "system:kube-controller-manager",
			Usage: UsageClient, Kubeconfig: true,
		},
		{
			Name: "scheduler.conf", Signer: "ca", CommonName: "system:kube-scheduler",
			Usage: UsageClient, Kubeconfig: true,
		},
		{
			Name: "kubelet.conf", Signer: "ca", CommonName: "system:node:" + node,
			Organization: []string{NodesGroup}, Usage: UsageClient, Kubeconfig: true,
		},
	}
}

// Names returns the names accepted by the per-certificate options.
func Names() []string {
	var out []string
	for _, s := range Specs(Config{NodeName: "n"}) {
		out = append(out, s.Name)
	}
	return out
}

// KeyPair is a parsed certificate with its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// CertPEM and KeyPEM are the encoded forms.
	CertPEM []byte
	KeyPEM  []byte
}

// PKI is the loaded or generated key material.
type PKI struct {
	// Dir is the pki directory (DIR/etc/kubernetes/pki).
	Dir string
	// Pairs holds every certificate by name, including kubeconfig client
	// certificates.
	Pairs map[string]*KeyPair
	// Fresh records which names were generated in this run.
	Fresh map[string]bool
}

// CertFile returns the path of a pki certificate by name.
func (p *PKI) CertFile(name string) string { return filepath.Join(p.Dir, name+".crt") }

// KeyFile returns the path of a pki private key by name.
func (p *PKI) KeyFile(name string) string { return filepath.Join(p.Dir, name+".key") }

// KubeconfigLoader loads the client certificate embedded in an existing
// kubeconfig; it returns fs.ErrNotExist when the file is absent.
type KubeconfigLoader func(name string) (certPEM, keyPEM []byte, err error)

// Ensure loads the PKI from dir, generating whatever is missing. CAs that
// are regenerated cause every certificate they sign to be regenerated too.
// Kubeconfig client certificates are loaded through load (which may be nil
// to always generate them).
func Ensure(dir string, c Config, load KubeconfigLoader) (*PKI, error) {
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	if c.KeyType == "" {
		c.KeyType = KeyRSA
	}
	if err := checkNames(c); err != nil {
		return nil, err
	}
	if c.Regenerate {
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("remove pki: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "etcd"), 0o755); err != nil {
		return nil, err
	}
	p := &PKI{Dir: dir, Pairs: map[string]*KeyPair{}, Fresh: map[string]bool{}}
	for _, s := range Specs(c) {
		signer := s.Signer
		if o, ok := c.Signer[s.Name]; ok {
			signer = o
		}
		var existing *KeyPair
		var err error
		if !c.Regenerate && !p.Fresh[signer] {
			if s.Kubeconfig {
				existing, err = loadKubeconfigPair(s.Name, load)
			} else {
				existing, err = loadPair(p.CertFile(s.Name), p.KeyFile(s.Name))
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("load %s: %w", s.Name, err)
			}
		}
		if existing != nil {
			p.Pairs[s.Name] = existing
			if _, ok := c.Validity[s.Name]; ok {
				logf(c.Log, "pki: reusing existing %s; --cert-validity applies only when it is generated (use --regenerate-pki or delete it)", s.Name)
			}
			continue
		}
		var parent *KeyPair
		if !s.IsCA() {
			parent = p.Pairs[signer]
			if parent == nil {
				return nil, fmt.Errorf("certificate %s: unknown signer %q", s.Name, signer)
			}
		}
		kp, err := generate(s, parent, c)
		if err != nil {
			return nil, fmt.Errorf("generate %s: %w", s.Name, err)
		}
		if !s.Kubeconfig {
			if err := writePair(p.CertFile(s.Name), p.KeyFile(s.Name), kp); err != nil {
				return nil, err
			}
		}
		p.Pairs[s.Name] = kp
		p.Fresh[s.Name] = true
	}
	if err := ensureServiceAccountKey(dir, c); err != nil {
		return nil, err
	}
	return p, nil
}

func checkNames(c Config) error {
	known := Names()
	check := func(flag, name string) error {
		if !slices.Contains(known, name) {
			return fmt.Errorf("%s: unknown certificate %q (known: %s)", flag, name, strings.Join(known, ", "))
		}
		return nil
	}
	for _, m := range []struct {
		flag string
		keys []string
	}{
		{"--cert-validity", keys(c.Validity)},
		{"--cert-not-before", keys(c.NotBefore)},
		{"--cert-signer", keys(c.Signer)},
	} {
		for _, k := range m.keys {
			if err := check(m.flag, k); err != nil {
				return err
			}
		}
	}
	for name, signer := range c.Signer {
		if signer != "ca" && signer != "front-proxy-ca" && signer != "etcd/ca" {
			return fmt.Errorf("--cert-signer %s=%s: signer must be ca, front-proxy-ca or etcd/ca", name, signer)
		}
		if strings.HasSuffix(name, "ca") {
			return fmt.Errorf("--cert-signer %s: certificate authorities are self-signed", name)
		}
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

func appendIPUnique(ips []net.IP, ip net.IP) []net.IP {
	for _, x := range ips {
		if x.Equal(ip) {
			return ips
		}
	}
	return append(ips, ip)
}

func newKey(t KeyType) (crypto.Signer, error) {
	if t == KeyECDSA {
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return rsa.GenerateKey(rand.Reader, 2048)
}

func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(math.MaxInt64-1))
	if err != nil {
		return nil, err
	}
	return n.Add(n, big.NewInt(1)), nil
}

func generate(s Spec, parent *KeyPair, c Config) (*KeyPair, error) {
	key, err := newKey(c.KeyType)
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	validity := DefaultLeafValidity
	if s.IsCA() {
		validity = DefaultCAValidity
	}
	if v, ok := c.Validity[s.Name]; ok {
		validity = v
	}
	offset := -DefaultBackdate
	if o, ok := c.NotBefore[s.Name]; ok {
		offset = o
	}
	notBefore := c.Now.Add(offset).UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: s.CommonName, Organization: s.Organization},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		DNSNames:              s.DNSNames,
		IPAddresses:           s.IPs,
	}
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	switch s.Usage {
	case UsageCA:
		tmpl.IsCA = true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		// kubeadm also lists the CA common name as a DNS name.
		tmpl.DNSNames = []string{s.CommonName}
	case UsageServer:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case UsageClient:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case UsageServerClient:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	issuer, issuerKey := tmpl, key
	if parent != nil {
		issuer, issuerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), issuerKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  keyPEM,
	}, nil
}

// encodeKey writes keys the way kubeadm does: PKCS#1 for RSA and SEC 1 for
// ECDSA.
func encodeKey(key crypto.Signer) ([]byte, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
	}
	return nil, fmt.Errorf("unsupported key type %T", key)
}

// ParseKey decodes a PEM private key in PKCS#1, SEC 1 or PKCS#8 form.
func ParseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block in private key")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported PKCS#8 key %T", k)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unsupported PEM block %q", block.Type)
}

// ParseCert decodes the first PEM certificate in data.
func ParseCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parsePair(certPEM, keyPEM []byte) (*KeyPair, error) {
	cert, err := ParseCert(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

func loadPair(certFile, keyFile string) (*KeyPair, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	return parsePair(certPEM, keyPEM)
}

func loadKubeconfigPair(name string, load KubeconfigLoader) (*KeyPair, error) {
	if load == nil {
		return nil, fs.ErrNotExist
	}
	certPEM, keyPEM, err := load(name)
	if err != nil {
		return nil, err
	}
	return parsePair(certPEM, keyPEM)
}

func writePair(certFile, keyFile string, kp *KeyPair) error {
	if err := WriteFileAtomic(keyFile, kp.KeyPEM, 0o600); err != nil {
		return err
	}
	return WriteFileAtomic(certFile, kp.CertPEM, 0o644)
}

// WriteFileAtomic writes data to a temporary file and renames it into place.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ensureServiceAccountKey creates sa.key and sa.pub unless both exist.
// kubeadm always uses an RSA key for service accounts unless configured
// otherwise; the sandbox follows the selected key type.
func ensureServiceAccountKey(dir string, c Config) error {
	keyFile, pubFile := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if _, err := os.Stat(keyFile); err == nil {
		if _, err := os.Stat(pubFile); err == nil {
			return nil
		}
	}
	key, err := newKey(c.KeyType)
	if err != nil {
		return err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return WriteFileAtomic(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644)
}

// ParseDuration accepts Go durations plus the suffixes d (days) and
// y (365 days), optionally negative: "48h", "720h", "30d", "-400d", "1y".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	neg := false
	body := s
	if body[0] == '-' || body[0] == '+' {
		neg = body[0] == '-'
		body = body[1:]
	}
	var unit time.Duration
	switch {
	case strings.HasSuffix(body, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(body, "y"):
		unit = 365 * 24 * time.Hour
	}
	if unit != 0 {
		n, err := strconv.ParseFloat(body[:len(body)-1], 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d := time.Duration(n * float64(unit))
		if neg {
			d = -d
		}
		return d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: %w", s, err)
	}
	return d, nil
}

// Invalid maps the names of certificates that are expired or not yet
// valid at now to a description of the problem.
func (p *PKI) Invalid(now time.Time) map[string]string {
	out := map[string]string{}
	for name, kp := range p.Pairs {
		c := kp.Cert
		switch {
		case now.After(c.NotAfter):
			out[name] = fmt.Sprintf("%s expired at %s", name, c.NotAfter.Format(time.RFC3339))
		case now.Before(c.NotBefore):
			out[name] = fmt.Sprintf("%s is not valid before %s", name, c.NotBefore.Format(time.RFC3339))
		}
	}
	return out
}

// Required lists the certificates the sandbox itself needs to start and
// run; the others may be expired or wrongly issued without breaking it.
func Required() []string {
	return []string{
		"ca", "etcd/ca", "apiserver", "etcd/server", "apiserver-etcd-client",
		"admin.conf", "super-admin.conf", "controller-manager.conf",
	}
}

// Keys returns the sorted keys of m.
func Keys[V any](m map[string]V) []string { return keys(m) }
