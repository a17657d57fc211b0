package certs

import (
	"context"
	"sync"
	"time"

	"github.com/shipshape-dev/shipshape/internal/finding"
	"github.com/shipshape-dev/shipshape/internal/snapshot"
)

var checkDocs = map[string]struct {
	title string
	sev   finding.Severity
	doc   string
}{
	ExpiryCheck: {"A certificate is expired, not yet valid or expires soon", finding.Critical, `Reports every certificate found (TLS Secrets, Secret and ConfigMap values holding PEM,
webhook, APIService and CRD caBundles, issued CSRs; with 'shipshape certs' also a node's PKI,
kubeconfigs, kubelet certificates and live TLS endpoints) that is expired or not yet valid
(critical), or whose time left is under the threshold: leaves high at 30 days and critical at 7,
CAs high at 365 days and critical at 90. An expired CA, etcd or API server certificate stops a
cluster and can make it unmanageable.`},
	LifetimeCheck: {"A certificate was issued for a different lifetime than its siblings or the policy", finding.High, `Compares each certificate's issued lifetime (NotAfter - NotBefore) with the certificates
signed by the same issuer, and with the intended validity (--expect-validity, or
certificateValidityPeriod from a kubeadm configuration on disk or in kube-system/kubeadm-config).
An installer that silently issues one certificate for one year instead of the configured
validity makes that certificate expire long before its siblings; this check catches it on the
day it is issued. It also compares a cert-manager Certificate's spec.duration with the lifetime
of the certificate in its Secret, which cert-manager does not. Lifetimes within 1% (at least one
hour) count as equal.`},
	ChainCheck: {"A certificate does not verify to its CA, or outlives it", finding.High, `Reports a kubeadm certificate not signed by the CA beside it (etcd certificates by etcd/ca,
front-proxy-client by front-proxy-ca, the rest by ca), a TLS Secret whose tls.crt does not verify
to its ca.crt, and a leaf that expires after the CA that issued it (medium).`},
	KeyMismatchCheck: {"A private key does not match its certificate", finding.High, `Compares the public key of each certificate with the private key stored beside it: NAME.crt
and NAME.key, tls.crt and tls.key, a kubeconfig's client certificate and key, a PEM holding both,
and the service-account key pair sa.key and sa.pub.`},
	KubeconfigCheck: {"A kubeconfig's certificate-authority-data is not the current CA", finding.High, `With a node root, compares the certificate-authority-data of every kubeconfig under
/etc/kubernetes (or the file its certificate-authority names) with the PKI's ca.crt. A stale CA
makes the component fail TLS after a CA change.`},
	APIServerSAN: {"The API server certificate lacks a name clients use", finding.High, `Checks that the API server's serving certificate (pki/apiserver.crt and the chain the live
server presents) covers kubernetes, kubernetes.default, kubernetes.default.svc, the host of the
kubeconfig's server URL and the kubernetes Service's cluster IP.`},
	WeakCryptoCheck: {"A certificate uses an RSA key under 2048 bits or a SHA-1 signature", finding.Medium, `Reports RSA keys shorter than 2048 bits and SHA-1 (or MD5) signatures on certificates
that are not self-signed roots.`},
	UnreadableCheck: {"A certificate, key or kubeconfig could not be read", finding.High, `Reports what could not be read, with the file or object: a truncated PEM block, data that
is no PEM, DER or PKCS#12, an encrypted key or password-protected PKCS#12, an unreadable file, a
symlink loop, a kubeconfig naming a missing file. The rest of the scan goes on; nothing in such
a value was judged.`},
}

// Checks returns the certificate checks for 'shipshape scan', judging at
// the current time with the default policy.
func Checks() []finding.Check { return ChecksWith(DefaultPolicy(), time.Now) }

// ChecksWith returns the certificate checks with a policy and a clock.
func ChecksWith(p Policy, now func() time.Time) []finding.Check {
	// The checks share one inventory per snapshot rather than decoding
	// every certificate once per check.
	var mu sync.Mutex
	var last *snapshot.Snapshot
	var lastInv *Inventory
	inventory := func(s *snapshot.Snapshot) *Inventory {
		mu.Lock()
		defer mu.Unlock()
		if s != last {
			last, lastInv = s, FromSnapshot(s)
		}
		return lastInv
	}
	out := make([]finding.Check, 0, len(checkDocs))
	for _, id := range CheckIDs() {
		d := checkDocs[id]
		out = append(out, finding.Check{
			ID: id, Title: d.title, Severity: d.sev, Doc: d.doc,
			DocsURL: "https://github.com/shipshape-dev/shipshape/blob/main/docs/certs.md",
			Run: func(ctx context.Context, s *snapshot.Snapshot) ([]finding.Finding, error) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				return JudgeOne(id, inventory(s), p, now()), nil
			},
		})
	}
	return out
}
