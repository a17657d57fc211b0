// Package certs finds the certificates a cluster depends on and judges them:
// expiry, issued lifetime against siblings and policy, chains, key pairs,
// kubeconfig CA data, API server SANs and weak algorithms.
//
// Fetching and judging are separate. The fetching side (Scan over a node's
// filesystem or named paths, FromSnapshot over objects a snapshot holds, a
// Collector over the pages of a live cluster.Stream, FromChain for
// certificates seen on the wire) turns inputs into an
// Inventory: certificates, the public halves of private keys, kubeconfigs
// and the problems met while reading. Judge is a pure function over an
// Inventory, a Policy and a clock. The package never prints and never talks
// to an API server; private key material is reduced to its public key as
// soon as it is parsed and is never kept, logged or reported.
package certs

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// SourceKind says what kind of place a certificate was found in.
type SourceKind string

// The source kinds.
const (
	// KindFile is a file on disk (PEM, DER or PKCS#12).
	KindFile SourceKind = "file"
	// KindKubeconfig is a kubeconfig user or cluster entry.
	KindKubeconfig SourceKind = "kubeconfig"
	// KindObject is a Kubernetes object: a Secret or ConfigMap value, a
	// caBundle, a CSR's issued certificate.
	KindObject SourceKind = "object"
	// KindEndpoint is a certificate a TLS server presented.
	KindEndpoint SourceKind = "endpoint"
)

// Source is where a certificate, key or problem was found.
type Source struct {
	Kind SourceKind
	// Path is the file (files and kubeconfigs) as it can be opened; for
	// endpoints it is host:port.
	Path string
	// Line is the line in Path, for objects read from manifest files.
	Line int
	// Object is the Kubernetes object, for KindObject.
	Object *finding.Object
	// Field names the value inside the file or object: a Secret data key
	// ("tls.crt"), a kubeconfig entry ("users[admin].client-certificate-data"),
	// a webhook ("webhooks[pod-policy.example.com].clientConfig.caBundle").
	Field string
	// Index is the position of the certificate in a bundle or chain (0 first).
	Index int
}

// String formats the source for people: path or object, then the field and
// the bundle position when there is more than one certificate.
func (s Source) String() string {
	var b strings.Builder
	switch {
	case s.Object != nil && s.Path != "":
		fmt.Fprintf(&b, "%s (%s)", location(s.Path, s.Line), s.Object)
	case s.Object != nil:
		b.WriteString(s.Object.String())
	default:
		b.WriteString(location(s.Path, s.Line))
	}
	if s.Field != "" {
		b.WriteString(" " + s.Field)
	}
	if s.Index > 0 {
		fmt.Fprintf(&b, " #%d", s.Index+1)
	}
	return b.String()
}

func location(path string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", path, line)
	}
	return path
}

// Location returns the finding location of s, or nil when s is no file.
func (s Source) Location() *finding.Location {
	if s.Path == "" || s.Kind == KindEndpoint {
		return nil
	}
	return &finding.Location{Path: s.Path, Line: s.Line}
}

// Cert is one certificate with where it was found.
type Cert struct {
	*x509.Certificate
	Source Source
	// Name is the kubeadm name when the certificate sits in a kubeadm
	// layout ("apiserver", "etcd/server", "admin.conf"), else "".
	Name string
}

// Fingerprint is the SHA-256 of the certificate, hex-encoded.
func (c Cert) Fingerprint() string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// Lifetime is the issued validity, NotAfter - NotBefore.
func (c Cert) Lifetime() time.Duration { return c.NotAfter.Sub(c.NotBefore) }

// Key is the public half of a private key found next to a certificate, or a
// public key file (sa.pub). The private key itself is never kept.
type Key struct {
	Public crypto.PublicKey
	Source Source
	// Private is true when the key was read from a private key.
	Private bool
}

// Pair says that a certificate and a key belong together: the same Secret,
// kubeconfig user or file name stem.
type Pair struct {
	Cert Source
	Key  Source
}

// Kubeconfig is what a kubeconfig file says about certificates: its
// clusters' CA data.
type Kubeconfig struct {
	Path string
	// CAs are the certificate-authority(-data) certificates per cluster,
	// their Source.Field naming the cluster.
	CAs []Cert
}

// Problem is something that could not be read: a truncated PEM block, a
// file that is no certificate, an encrypted key, a missing file.
type Problem struct {
	Source   Source
	Reason   string
	Severity finding.Severity
}

// Inventory is everything found, ready to judge.
type Inventory struct {
	Certs       []Cert
	Keys        []Key
	Pairs       []Pair
	Kubeconfigs []Kubeconfig
	Problems    []Problem
	// ValidityFrom says where Policy-relevant validities were read
	// (a kubeadm config file or ConfigMap), when any were.
	KubeadmConfig *KubeadmValidity
	// Requested are the lifetimes cert-manager Certificates ask for.
	Requested []Requested
	// sigs caches signature checks: many objects hold copies of the same
	// certificates, and verifying a signature costs far more than parsing.
	sigMu sync.Mutex
	sigs  map[string]bool // by string(sigKey)
	// parsed caches CA certificates by DER (leaves are parsed each time).
	parsed map[string]*x509.Certificate
	// APIServer lists what the API server's serving certificate must cover:
	// the host names and IPs clients use (from the kubeconfig server URL and
	// the kubernetes Service's cluster IP).
	APIServerNames []string
}

// Merge appends other's contents to inv.
func (inv *Inventory) Merge(other *Inventory) {
	if other == nil {
		return
	}
	inv.Certs = append(inv.Certs, other.Certs...)
	inv.Keys = append(inv.Keys, other.Keys...)
	inv.Pairs = append(inv.Pairs, other.Pairs...)
	inv.Kubeconfigs = append(inv.Kubeconfigs, other.Kubeconfigs...)
	inv.Problems = append(inv.Problems, other.Problems...)
	if inv.KubeadmConfig == nil {
		inv.KubeadmConfig = other.KubeadmConfig
	}
	inv.APIServerNames = append(inv.APIServerNames, other.APIServerNames...)
	inv.Requested = append(inv.Requested, other.Requested...)
	// Signature checks already made stay made (a Collector makes them
	// while the cluster is read).
	other.sigMu.Lock()
	sigs := maps.Clone(other.sigs)
	other.sigMu.Unlock()
	if len(sigs) > 0 {
		inv.sigMu.Lock()
		if inv.sigs == nil {
			inv.sigs = sigs
		} else {
			maps.Copy(inv.sigs, sigs)
		}
		inv.sigMu.Unlock()
	}
}

// Requested is a cert-manager Certificate: the Secret it fills and the
// lifetime it asks for.
type Requested struct {
	Source                Source
	Namespace, SecretName string
	Duration              time.Duration
}

// KubeadmValidity holds the validities a kubeadm ClusterConfiguration asks for.
type KubeadmValidity struct {
	// From names the file or ConfigMap read.
	From string
	// Leaf is certificateValidityPeriod; CA is caCertificateValidityPeriod.
	// Zero means not set.
	Leaf, CA time.Duration
}

// signedBy reports whether parent's key signed child, remembering the
// answer by sigKey.
func (inv *Inventory) signedBy(child, parent *x509.Certificate) bool {
	k := sigKey(child, parent)
	key := string(k[:])
	inv.sigMu.Lock()
	ok, seen := inv.sigs[key]
	inv.sigMu.Unlock()
	if seen {
		return ok
	}
	ok = child.CheckSignatureFrom(parent) == nil
	inv.sigMu.Lock()
	if inv.sigs == nil {
		inv.sigs = map[string]bool{}
	}
	inv.sigs[key] = ok
	inv.sigMu.Unlock()
	return ok
}

// selfSigned reports whether c names itself as its issuer and its signature
// verifies with its own key.
func (inv *Inventory) selfSigned(c Cert) bool {
	return string(c.RawIssuer) == string(c.RawSubject) && inv.signedBy(c.Certificate, c.Certificate)
}

// IsCA reports whether c may sign certificates.
func (c Cert) IsCA() bool { return c.BasicConstraintsValid && c.Certificate.IsCA }

// Subject formats the certificate's subject briefly.
func Subject(c *x509.Certificate) string { return c.Subject.String() }

// Issuer formats the certificate's issuer briefly.
func Issuer(c *x509.Certificate) string { return c.Issuer.String() }

// ParseDuration reads a Go duration, or a whole number of days ("30d") or
// years of 365 days ("3y").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": Day, "y": 365 * Day} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			var v int64
			if _, err := fmt.Sscanf(n, "%d", &v); err != nil || fmt.Sprint(v) != n {
				return 0, fmt.Errorf("invalid duration %q", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 720h, 30d or 1y)", s)
	}
	return d, nil
}

// Row is one certificate in the table sorted by time left.
type Row struct {
	Source   string
	Subject  string
	Issuer   string
	NotAfter time.Time
	Left     time.Duration
	Lifetime time.Duration
}

// Rows lists the inventory's certificates, least time left first.
func Rows(inv *Inventory, now time.Time) []Row {
	out := make([]Row, 0, len(inv.Certs))
	for _, c := range inv.Certs {
		out = append(out, Row{Source: c.Source.String(), Subject: Subject(c.Certificate), Issuer: Issuer(c.Certificate), NotAfter: c.NotAfter, Left: c.NotAfter.Sub(now), Lifetime: c.Lifetime()})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Left != out[j].Left {
			return out[i].Left < out[j].Left
		}
		return out[i].Source < out[j].Source
	})
	return out
}
