package certs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// maxFileBytes bounds what one certificate or kubeconfig file may hold.
const maxFileBytes = 16 << 20

// FileOptions names the filesystem sources.
type FileOptions struct {
	// Root is a node's filesystem, read as that node's "/": the kubeadm
	// PKI, kubeconfigs and kubelet certificates. Empty means none.
	Root string
	// Paths are other files or directories (read recursively) holding PEM,
	// DER or PKCS#12 files and kubeconfigs.
	Paths []string
}

// certExtensions are file name endings that must hold a certificate or key.
var certExtensions = []string{".crt", ".cer", ".pem", ".der", ".key", ".pub", ".p12", ".pfx"}

// ReadFiles reads the filesystem sources. Problems with single files
// (unreadable, not a certificate, a symlink loop) are recorded in the
// inventory and reading goes on; the error is only for a cancelled context.
func ReadFiles(ctx context.Context, o FileOptions) (*Inventory, error) {
	r := &fileReader{inv: &Inventory{}, seen: map[string]parsed{}, root: o.Root}
	if o.Root != "" {
		if err := r.readRoot(ctx); err != nil {
			return r.inv, err
		}
	}
	for _, p := range o.Paths {
		if err := r.readPath(ctx, p); err != nil {
			return r.inv, err
		}
	}
	return r.inv, nil
}

type fileReader struct {
	inv  *Inventory
	root string
	// seen maps a cleaned path to what it held, so that a file named by a
	// kubeconfig and found by the walk is read once.
	seen map[string]parsed
}

func (r *fileReader) problem(path string, sev finding.Severity, format string, a ...any) {
	r.inv.Problems = append(r.inv.Problems, Problem{Source: Source{Kind: KindFile, Path: path}, Reason: fmt.Sprintf(format, a...), Severity: sev})
}

func (r *fileReader) readRoot(ctx context.Context) error {
	fi, err := os.Stat(r.root)
	if err != nil {
		r.problem(r.root, finding.High, "cannot read the node root: %s", osReason(err))
		return nil
	}
	if !fi.IsDir() {
		r.problem(r.root, finding.High, "the node root is not a directory")
		return nil
	}
	kube := filepath.Join(r.root, "etc", "kubernetes")
	pki := filepath.Join(kube, "pki")
	if _, err := os.Stat(pki); err != nil {
		r.problem(pki, finding.Medium, "no kubeadm PKI here: %s", osReason(err))
	} else if err := r.walk(ctx, pki, true); err != nil {
		return err
	}
	if err := r.walk(ctx, filepath.Join(r.root, "var", "lib", "kubelet", "pki"), false); err != nil {
		return err
	}
	confs, _ := filepath.Glob(filepath.Join(kube, "*.conf"))
	sort.Strings(confs)
	for _, c := range confs {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, ok := r.read(c)
		if ok {
			r.kubeconfig(c, data)
		}
	}
	for _, name := range []string{"kubeadm-config.yaml", "kubeadm.yaml", "kubeadm-config.yml", "kubeadm.yml"} {
		p := filepath.Join(kube, name)
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		kv, err := ParseKubeadmValidity(data, p)
		if err != nil {
			r.problem(p, finding.Medium, "%v", err)
			continue
		}
		if kv != nil && r.inv.KubeadmConfig == nil {
			r.inv.KubeadmConfig = kv
		}
	}
	r.pairStems()
	return nil
}

// walk reads every file below dir. Symlinks to files are followed (the
// kubelet's kubelet-client-current.pem is one); symlinked directories are
// not, so a loop cannot trap the walk. With required, every file must hold
// a certificate or key; otherwise only files with a certificate extension
// must.
func (r *fileReader) walk(ctx context.Context, dir string, required bool) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			r.problem(path, finding.Medium, "cannot read: %s", osReason(err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			fi, err := os.Stat(path)
			if err != nil {
				r.problem(path, finding.Medium, "broken symlink: %s", osReason(err))
				return nil
			}
			if fi.IsDir() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		r.file(path, required || hasCertExtension(path))
		return nil
	})
}

func hasCertExtension(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	for _, e := range certExtensions {
		if ext == e {
			return true
		}
	}
	return false
}

func (r *fileReader) read(path string) ([]byte, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		r.problem(path, finding.Medium, "cannot read: %s", osReason(err))
		return nil, false
	}
	if fi.Size() > maxFileBytes {
		r.problem(path, finding.Medium, "skipped: %d bytes is larger than a certificate file can be (%d)", fi.Size(), maxFileBytes)
		return nil, false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		r.problem(path, finding.Medium, "cannot read: %s", osReason(err))
		return nil, false
	}
	return data, true
}

// file reads one certificate, key or kubeconfig file.
func (r *fileReader) file(path string, required bool) parsed {
	key := filepath.Clean(path)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		// A symlink and its target (kubelet-client-current.pem) are one file.
		key = real
	}
	if p, ok := r.seen[key]; ok {
		return p
	}
	data, ok := r.read(path)
	if !ok {
		r.seen[key] = parsed{}
		return parsed{}
	}
	if looksLikeKubeconfig(data) {
		r.kubeconfig(path, data)
		r.seen[key] = parsed{}
		return parsed{}
	}
	src := Source{Kind: KindFile, Path: path}
	before := len(r.inv.Certs)
	p := parse(r.inv, data, src, ParseOptions{Required: required})
	if name := r.kubeadmName(path); name != "" {
		for i := before; i < len(r.inv.Certs); i++ {
			r.inv.Certs[i].Name = name
		}
	}
	if p.certs > 0 && p.keys > 0 {
		r.inv.Pairs = append(r.inv.Pairs, Pair{Cert: p.firstCert, Key: p.firstKey})
	}
	r.seen[key] = p
	return p
}

// kubeadmName is the certificate's name in the kubeadm layout, relative to
// the PKI directory and without extension, when path is in one.
func (r *fileReader) kubeadmName(path string) string {
	if r.root == "" {
		return ""
	}
	rel, err := filepath.Rel(filepath.Join(r.root, "etc", "kubernetes", "pki"), path)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel, err = filepath.Rel(filepath.Join(r.root, "var", "lib", "kubelet", "pki"), path)
		if err != nil || strings.HasPrefix(rel, "..") {
			return ""
		}
		return "kubelet/" + strings.TrimSuffix(filepath.ToSlash(rel), filepath.Ext(rel))
	}
	return strings.TrimSuffix(filepath.ToSlash(rel), filepath.Ext(rel))
}

// pairStems pairs NAME.crt with NAME.key, and sa.pub with sa.key, in the
// files read.
func (r *fileReader) pairStems() {
	paths := make([]string, 0, len(r.seen))
	for p := range r.seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		var partner string
		switch filepath.Ext(p) {
		case ".crt", ".pub":
			partner = strings.TrimSuffix(p, filepath.Ext(p)) + ".key"
		default:
			continue
		}
		c, k := r.seen[p], r.seen[partner]
		switch {
		case c.certs > 0 && k.keys > 0:
			r.inv.Pairs = append(r.inv.Pairs, Pair{Cert: c.firstCert, Key: k.firstKey})
		case filepath.Ext(p) == ".pub" && c.keys > 0 && k.keys > 0:
			r.inv.Pairs = append(r.inv.Pairs, Pair{Cert: c.firstKey, Key: k.firstKey})
		}
	}
}

func (r *fileReader) readPath(ctx context.Context, p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		r.problem(p, finding.Medium, "cannot read: %s", osReason(err))
		return nil
	}
	if fi.IsDir() {
		if err := r.walk(ctx, p, false); err != nil {
			return err
		}
		r.pairStems()
		return nil
	}
	r.file(p, true)
	r.pairStems()
	return nil
}

func looksLikeKubeconfig(data []byte) bool {
	s := string(data)
	return strings.Contains(s, "kind: Config") || strings.Contains(s, `"kind": "Config"`) ||
		(strings.Contains(s, "clusters:") && strings.Contains(s, "contexts:"))
}

// kubeconfig reads the certificates a kubeconfig embeds or names.
func (r *fileReader) kubeconfig(path string, data []byte) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		r.problem(path, finding.Medium, "not a valid kubeconfig: %s", shortErr(err))
		return
	}
	kc := Kubeconfig{Path: path}
	name := ""
	if r.root != "" && filepath.Dir(path) == filepath.Join(r.root, "etc", "kubernetes") {
		name = filepath.Base(path)
	}
	for _, cn := range sortedKeys(cfg.Clusters) {
		c := cfg.Clusters[cn]
		field := "clusters[" + cn + "].certificate-authority"
		before := len(r.inv.Certs)
		switch {
		case len(c.CertificateAuthorityData) > 0:
			field += "-data"
			parse(r.inv, c.CertificateAuthorityData, Source{Kind: KindKubeconfig, Path: path, Field: field}, ParseOptions{Required: true})
		case c.CertificateAuthority != "":
			if p := r.referenced(path, field, c.CertificateAuthority); p.certs > 0 {
				// Judge the named file as this kubeconfig's CA too.
				for _, ca := range r.inv.Certs {
					if ca.Source == p.firstCert {
						ref := ca
						ref.Source = Source{Kind: KindKubeconfig, Path: path, Field: field}
						kc.CAs = append(kc.CAs, ref)
					}
				}
			}
			continue
		default:
			continue
		}
		kc.CAs = append(kc.CAs, r.inv.Certs[before:]...)
		if r.root != "" {
			// Under a node root the CA data is a copy of pki/ca.crt, which
			// is judged itself; certs/kubeconfig-ca checks the copy.
			r.inv.Certs = r.inv.Certs[:before]
		}
	}
	for _, un := range sortedKeys(cfg.AuthInfos) {
		u := cfg.AuthInfos[un]
		var cert, key parsed
		field := "users[" + un + "]."
		switch {
		case len(u.ClientCertificateData) > 0:
			before := len(r.inv.Certs)
			cert = parse(r.inv, u.ClientCertificateData, Source{Kind: KindKubeconfig, Path: path, Field: field + "client-certificate-data"}, ParseOptions{Required: true})
			for i := before; i < len(r.inv.Certs); i++ {
				r.inv.Certs[i].Name = name
			}
		case u.ClientCertificate != "":
			cert = r.referenced(path, field+"client-certificate", u.ClientCertificate)
		}
		switch {
		case len(u.ClientKeyData) > 0:
			key = parse(r.inv, u.ClientKeyData, Source{Kind: KindKubeconfig, Path: path, Field: field + "client-key-data"}, ParseOptions{Required: true})
		case u.ClientKey != "":
			key = r.referenced(path, field+"client-key", u.ClientKey)
		}
		if cert.certs > 0 && key.keys > 0 {
			r.inv.Pairs = append(r.inv.Pairs, Pair{Cert: cert.firstCert, Key: key.firstKey})
		}
	}
	r.inv.Kubeconfigs = append(r.inv.Kubeconfigs, kc)
}

// referenced reads a file a kubeconfig names. Relative names are relative
// to the kubeconfig; absolute ones are inside the node root when one is set.
func (r *fileReader) referenced(kubeconfig, field, name string) parsed {
	p := name
	switch {
	case filepath.IsAbs(p) && r.root != "":
		p = filepath.Join(r.root, p)
	case !filepath.IsAbs(p):
		p = filepath.Join(filepath.Dir(kubeconfig), p)
	}
	if _, err := os.Stat(p); err != nil {
		r.inv.Problems = append(r.inv.Problems, Problem{
			Source:   Source{Kind: KindKubeconfig, Path: kubeconfig, Field: field},
			Reason:   fmt.Sprintf("names %s, which cannot be read: %s", name, osReason(err)),
			Severity: finding.High,
		})
		return parsed{}
	}
	return r.file(p, true)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// osReason says why a file could not be read, without the path (the
// finding carries it).
func osReason(err error) string {
	switch {
	case errors.Is(err, syscall.ELOOP):
		return "symlink loop"
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// ParseKubeadmValidity reads certificateValidityPeriod and
// caCertificateValidityPeriod from a kubeadm configuration (one or more
// YAML documents; only ClusterConfiguration is read). It returns nil when
// neither is set.
func ParseKubeadmValidity(data []byte, from string) (*KubeadmValidity, error) {
	kv := &KubeadmValidity{From: from}
	for _, doc := range strings.Split(string(data), "\n---") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("kubeadm configuration does not parse: %s", shortErr(err))
		}
		if k, _ := m["kind"].(string); k != "" && k != "ClusterConfiguration" {
			continue
		}
		for field, into := range map[string]*time.Duration{"certificateValidityPeriod": &kv.Leaf, "caCertificateValidityPeriod": &kv.CA} {
			v, ok := m[field].(string)
			if !ok {
				continue
			}
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("kubeadm configuration: %s %q is not a positive duration", field, v)
			}
			*into = d
		}
	}
	if kv.Leaf == 0 && kv.CA == 0 {
		return nil, nil
	}
	return kv, nil
}
