package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// RenewOptions says what `certs renew` does to a kubeadm-layout PKI.
type RenewOptions struct {
	// Root is the node's filesystem ("/" on a control-plane node).
	Root string
	// Only limits renewal to these kubeadm names ("apiserver",
	// "etcd/server", "admin.conf"); empty means every leaf.
	Only []string
	// Validity is the new lifetime. Zero means the kubeadm configuration's
	// certificateValidityPeriod, else the most common lifetime of the
	// current leaves; never a silent default.
	Validity time.Duration
	// ReuseKey keeps each certificate's key instead of making a new one.
	ReuseKey bool
	// DryRun plans without writing anything.
	DryRun bool
	// BackupDir receives the replaced files; empty means a timestamped
	// folder under ROOT/etc/kubernetes/shipshape-backup/.
	BackupDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Renewed is one renewed (or, in a dry run, planned) certificate.
type Renewed struct {
	Name        string
	Path        string
	OldNotAfter time.Time
	NewNotAfter time.Time
	// Capped is true when the CA's NotAfter cut the validity short.
	Capped bool
}

// RenewResult says what Renew did.
type RenewResult struct {
	Validity time.Duration
	// ValidityFrom says where the validity came from.
	ValidityFrom string
	Renewed      []Renewed
	// BackupDir holds the previous files (empty in a dry run).
	BackupDir string
	// Restart lists the components that must restart to use the new files.
	Restart []string
	// CAWarnings are CAs that expire within a year, with rotation steps.
	CAWarnings []string
}

// renewable are the kubeadm leaves Renew knows, with their signing CA and
// the component that uses them.
var renewable = []struct{ name, ca, component string }{
	{"apiserver", "ca", "kube-apiserver"},
	{"apiserver-kubelet-client", "ca", "kube-apiserver"},
	{"apiserver-etcd-client", "etcd/ca", "kube-apiserver"},
	{"front-proxy-client", "front-proxy-ca", "kube-apiserver"},
	{"etcd/server", "etcd/ca", "etcd"},
	{"etcd/peer", "etcd/ca", "etcd"},
	{"etcd/healthcheck-client", "etcd/ca", "etcd"},
	{"admin.conf", "ca", ""},
	{"super-admin.conf", "ca", ""},
	{"controller-manager.conf", "ca", "kube-controller-manager"},
	{"scheduler.conf", "ca", "kube-scheduler"},
}

// loaded is one certificate and key as found on disk.
type loaded struct {
	name, ca, component string
	// certPath and keyPath are the files; for kubeconfigs both are the
	// kubeconfig and user names the embedded entry.
	certPath, keyPath string
	user              string
	cert              *x509.Certificate
	key               crypto.Signer
	keyType           string // PEM block type of the key
}

// Renew re-signs the leaves of a kubeadm PKI with their on-disk CAs,
// keeping subject, every SAN and the key usages; see RenewOptions. Every
// replaced file is copied to the backup folder before anything is written,
// and each file is written atomically with its previous mode and owner.
func Renew(o RenewOptions) (*RenewResult, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	at := now()
	kube := filepath.Join(o.Root, "etc", "kubernetes")
	pki := filepath.Join(kube, "pki")
	for _, n := range o.Only {
		if !knownRenewable(n) {
			return nil, fmt.Errorf("--only %q: not a kubeadm leaf certificate (one of %s)", n, strings.Join(renewableNames(), ", "))
		}
	}

	var all []loaded
	for _, r := range renewable {
		l, ok, err := load(kube, pki, r.name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		l.ca, l.component = r.ca, r.component
		all = append(all, l)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no kubeadm certificates found under %s", pki)
	}
	res := &RenewResult{}
	var err error
	res.Validity, res.ValidityFrom, err = renewValidity(o, kube, all)
	if err != nil {
		return nil, err
	}

	cas := map[string]*loaded{}
	for _, name := range []string{"ca", "etcd/ca", "front-proxy-ca"} {
		l, err := loadPair(filepath.Join(pki, name+".crt"), filepath.Join(pki, name+".key"))
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			return nil, fmt.Errorf("CA %s: %w", name, err)
		}
		l.name = name
		cas[name] = l
		if left := l.cert.NotAfter.Sub(at); left < 365*Day {
			res.CAWarnings = append(res.CAWarnings, fmt.Sprintf("CA %s expires in %s (%s): shipshape does not rotate CAs. To rotate: create a new CA, add it next to the old one in every trust bundle and kubeconfig, re-issue every certificate it signs, restart all components, then remove the old CA.", name, HumanDuration(left), stamp(l.cert.NotAfter)))
		}
	}

	type planned struct {
		l       loaded
		certPEM []byte
		keyPEM  []byte
		r       Renewed
	}
	var plan []planned
	for _, l := range all {
		if len(o.Only) > 0 && !contains(o.Only, l.name) {
			continue
		}
		ca, ok := cas[l.ca]
		if !ok {
			return nil, fmt.Errorf("%s: its CA %s has no key under %s (an externally managed CA): renew it with that CA", l.name, l.ca, pki)
		}
		key := l.key
		if !o.ReuseKey {
			if key, err = newKeyLike(l.cert.PublicKey); err != nil {
				return nil, fmt.Errorf("%s: new key: %w", l.name, err)
			}
		}
		notAfter := at.Add(res.Validity)
		capped := false
		if notAfter.After(ca.cert.NotAfter) {
			notAfter, capped = ca.cert.NotAfter, true
		}
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err != nil {
			return nil, err
		}
		old := l.cert
		tmpl := &x509.Certificate{
			SerialNumber:          serial,
			Subject:               old.Subject,
			NotBefore:             at.Add(-5 * time.Minute),
			NotAfter:              notAfter,
			KeyUsage:              old.KeyUsage,
			ExtKeyUsage:           old.ExtKeyUsage,
			UnknownExtKeyUsage:    old.UnknownExtKeyUsage,
			BasicConstraintsValid: true,
			DNSNames:              old.DNSNames,
			IPAddresses:           old.IPAddresses,
			URIs:                  old.URIs,
			EmailAddresses:        old.EmailAddresses,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
		if err != nil {
			return nil, fmt.Errorf("%s: sign: %w", l.name, err)
		}
		keyPEM, err := encodeKey(key, l.keyType)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.name, err)
		}
		plan = append(plan, planned{l: l, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM: keyPEM,
			r: Renewed{Name: l.name, Path: l.certPath, OldNotAfter: old.NotAfter, NewNotAfter: notAfter, Capped: capped}})
	}
	restart := map[string]bool{}
	for _, p := range plan {
		res.Renewed = append(res.Renewed, p.r)
		if p.l.component != "" {
			restart[p.l.component] = true
		}
	}
	for c := range restart {
		res.Restart = append(res.Restart, c)
	}
	sort.Strings(res.Restart)
	if o.DryRun || len(plan) == 0 {
		return res, nil
	}

	// Back up every file first: nothing is written unless all copies exist.
	res.BackupDir = o.BackupDir
	if res.BackupDir == "" {
		res.BackupDir = filepath.Join(kube, "shipshape-backup", at.UTC().Format("20060102T150405Z"))
	}
	files := map[string]bool{}
	for _, p := range plan {
		files[p.l.certPath], files[p.l.keyPath] = true, true
	}
	for f := range files {
		rel, err := filepath.Rel(o.Root, f)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = filepath.Base(f)
		}
		if err := copyFile(f, filepath.Join(res.BackupDir, rel)); err != nil {
			return nil, fmt.Errorf("back up %s: %w", f, err)
		}
	}
	for _, p := range plan {
		if p.l.user != "" {
			if err := updateKubeconfig(p.l.certPath, p.l.user, p.certPEM, p.keyPEM); err != nil {
				return res, err
			}
			continue
		}
		if err := writeAtomic(p.l.keyPath, p.keyPEM); err != nil {
			return res, err
		}
		if err := writeAtomic(p.l.certPath, p.certPEM); err != nil {
			return res, err
		}
	}
	return res, nil
}

func knownRenewable(name string) bool {
	for _, r := range renewable {
		if r.name == name {
			return true
		}
	}
	return false
}

func renewableNames() []string {
	out := make([]string, 0, len(renewable))
	for _, r := range renewable {
		out = append(out, r.name)
	}
	return out
}

// renewValidity picks the validity: the flag, else the kubeadm
// configuration, else the most common current lifetime. Without any of
// them it fails rather than guess.
func renewValidity(o RenewOptions, kube string, all []loaded) (time.Duration, string, error) {
	if o.Validity > 0 {
		return o.Validity, "--validity", nil
	}
	for _, name := range []string{"kubeadm-config.yaml", "kubeadm.yaml", "kubeadm-config.yml", "kubeadm.yml"} {
		p := filepath.Join(kube, name)
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		kv, err := ParseKubeadmValidity(data, p)
		if err != nil {
			return 0, "", err
		}
		if kv != nil && kv.Leaf > 0 {
			return kv.Leaf, "certificateValidityPeriod in " + p, nil
		}
	}
	certs := make([]Cert, 0, len(all))
	for _, l := range all {
		certs = append(certs, Cert{Certificate: l.cert})
	}
	mode, n, tie := modeLifetime(certs)
	if tie || n < 2 {
		return 0, "", errors.New("cannot tell the intended validity: no --validity, no certificateValidityPeriod in a kubeadm configuration, and the current certificates do not agree on one lifetime; pass --validity")
	}
	// Lifetimes carry kubeadm's five-minute backdating; renew whole hours.
	mode = mode.Round(time.Hour)
	return mode, fmt.Sprintf("the most common lifetime of the current certificates (%d of %d)", n, len(all)), nil
}

// load reads one kubeadm leaf: NAME.crt/NAME.key under pki, or a
// kubeconfig's embedded client certificate.
func load(kube, pki, name string) (loaded, bool, error) {
	if strings.HasSuffix(name, ".conf") {
		path := filepath.Join(kube, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return loaded{}, false, nil
		}
		if err != nil {
			return loaded{}, false, err
		}
		cfg, err := clientcmd.Load(data)
		if err != nil {
			return loaded{}, false, fmt.Errorf("%s: %w", path, err)
		}
		for _, un := range sortedKeys(cfg.AuthInfos) {
			u := cfg.AuthInfos[un]
			if len(u.ClientCertificateData) == 0 || len(u.ClientKeyData) == 0 {
				continue
			}
			l, err := parsePair(u.ClientCertificateData, u.ClientKeyData)
			if err != nil {
				return loaded{}, false, fmt.Errorf("%s user %s: %w", path, un, err)
			}
			l.name, l.certPath, l.keyPath, l.user = name, path, path, un
			return *l, true, nil
		}
		return loaded{}, false, nil
	}
	l, err := loadPair(filepath.Join(pki, name+".crt"), filepath.Join(pki, name+".key"))
	if errors.Is(err, os.ErrNotExist) {
		return loaded{}, false, nil
	}
	if err != nil {
		return loaded{}, false, fmt.Errorf("%s: %w", name, err)
	}
	l.name = name
	return *l, true, nil
}

func loadPair(certPath, keyPath string) (*loaded, error) {
	c, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	k, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	l, err := parsePair(c, k)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	l.certPath, l.keyPath = certPath, keyPath
	return l, nil
}

func parsePair(certPEM, keyPEM []byte) (*loaded, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	c, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New("no PEM private key")
	}
	var key any
	switch kb.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	default:
		return nil, fmt.Errorf("unsupported private key block %q", kb.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %s", shortErr(err))
	}
	signer, ok := key.(crypto.Signer)
	if !ok || !samePublicKey(c.PublicKey, signer.Public()) {
		return nil, errors.New("the private key does not match the certificate")
	}
	return &loaded{cert: c, key: signer, keyType: kb.Type}, nil
}

func newKeyLike(pub crypto.PublicKey) (crypto.Signer, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return rsa.GenerateKey(rand.Reader, max(2048, p.N.BitLen()))
	case *ecdsa.PublicKey:
		return ecdsa.GenerateKey(p.Curve, rand.Reader)
	case ed25519.PublicKey:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("unsupported key type %T", pub)
}

func encodeKey(key crypto.Signer, blockType string) ([]byte, error) {
	var der []byte
	var err error
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if blockType == "RSA PRIVATE KEY" {
			return pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
		}
	case *ecdsa.PrivateKey:
		if blockType == "EC PRIVATE KEY" {
			if der, err = x509.MarshalECPrivateKey(k); err != nil {
				return nil, err
			}
			return pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), nil
		}
	}
	if der, err = x509.MarshalPKCS8PrivateKey(key); err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func updateKubeconfig(path, user string, certPEM, keyPEM []byte) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	u, ok := cfg.AuthInfos[user]
	if !ok {
		return fmt.Errorf("%s: user %s disappeared", path, user)
	}
	u.ClientCertificateData, u.ClientKeyData = certPEM, keyPEM
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return writeAtomic(path, out)
}

// writeAtomic replaces path with data: a temporary file in the same
// directory with path's mode and owner, synced, renamed over path, and the
// directory synced. A failure leaves the previous file in place.
func writeAtomic(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	fail := func(err error) error {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		return fail(err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if err := tmp.Chown(int(st.Uid), int(st.Gid)); err != nil && !errors.Is(err, os.ErrPermission) {
			return fail(err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// copyFile copies src to dst (creating directories, mode 0700 for them),
// keeping src's mode, and syncs it.
func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
