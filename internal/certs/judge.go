package certs

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/shipshape-dev/shipshape/internal/finding"
)

// Check IDs.
const (
	ExpiryCheck      = "certs/expiry"
	LifetimeCheck    = "certs/lifetime"
	ChainCheck       = "certs/chain"
	KeyMismatchCheck = "certs/key-mismatch"
	KubeconfigCheck  = "certs/kubeconfig-ca"
	APIServerSAN     = "certs/apiserver-san"
	WeakCryptoCheck  = "certs/weak-crypto"
	UnreadableCheck  = "certs/unreadable"
)

// Day is 24 hours.
const Day = 24 * time.Hour

// Policy holds the thresholds and the intended validities.
type Policy struct {
	// LeafHigh and LeafCritical: a leaf with less time left is reported
	// high or critical. CAHigh and CACritical are the same for CAs.
	LeafHigh, LeafCritical time.Duration
	CAHigh, CACritical     time.Duration
	// ExpectValidity is the intended lifetime of leaf certificates found on
	// a node (files and kubeconfigs, kubelet certificates aside). Zero means
	// the kubeadm configuration's certificateValidityPeriod, when found.
	ExpectValidity time.Duration
	// ExpectCAValidity is the same for CAs (caCertificateValidityPeriod).
	ExpectCAValidity time.Duration
}

// DefaultPolicy returns the documented default thresholds: leaves high at
// 30 days and critical at 7, CAs high at 365 days and critical at 90.
func DefaultPolicy() Policy {
	return Policy{LeafHigh: 30 * Day, LeafCritical: 7 * Day, CAHigh: 365 * Day, CACritical: 90 * Day}
}

// Judge runs every certificate check over inv at the time now.
func Judge(inv *Inventory, p Policy, now time.Time) []finding.Finding {
	var out []finding.Finding
	// One judge for all checks: what they share is worked out once.
	j := &judge{inv: inv, p: p, now: now}
	for _, id := range CheckIDs() {
		out = append(out, j.run(id)...)
	}
	finding.Sort(out)
	return out
}

// CheckIDs lists the certificate checks.
func CheckIDs() []string {
	return []string{APIServerSAN, ChainCheck, ExpiryCheck, KeyMismatchCheck, KubeconfigCheck, LifetimeCheck, UnreadableCheck, WeakCryptoCheck}
}

// JudgeOne runs one check.
func JudgeOne(id string, inv *Inventory, p Policy, now time.Time) []finding.Finding {
	return (&judge{inv: inv, p: p, now: now}).run(id)
}

func (j *judge) run(id string) []finding.Finding {
	switch id {
	case ExpiryCheck:
		return j.expiry()
	case LifetimeCheck:
		return j.lifetime()
	case ChainCheck:
		return j.chain()
	case KeyMismatchCheck:
		return j.keyMismatch()
	case KubeconfigCheck:
		return j.kubeconfigCA()
	case APIServerSAN:
		return j.apiserverSAN()
	case WeakCryptoCheck:
		return j.weak()
	case UnreadableCheck:
		return j.unreadable()
	}
	return nil
}

type judge struct {
	inv *Inventory
	p   Policy
	now time.Time
	// uniq is unique(inv.Certs), once worked out.
	uniq []Cert
	// self remembers selfSigned by certificate: copies of one CA parsed
	// together share one *x509.Certificate, and ten thousand Secrets may
	// each hold one.
	self map[*x509.Certificate]bool
}

// selfSigned is inv.selfSigned, remembered per certificate.
func (j *judge) selfSigned(c Cert) bool {
	if ok, seen := j.self[c.Certificate]; seen {
		return ok
	}
	ok := j.inv.selfSigned(c)
	if j.self == nil {
		j.self = map[*x509.Certificate]bool{}
	}
	j.self[c.Certificate] = ok
	return ok
}

// unique returns the inventory's certificates once each.
func (j *judge) unique() []Cert {
	if j.uniq == nil {
		j.uniq = unique(j.inv.Certs)
	}
	return j.uniq
}

func newFinding(check string, sev finding.Severity, src Source, msg, fix string) finding.Finding {
	return finding.Finding{Check: check, Severity: sev, Message: msg, Remediation: fix, Object: src.Object, Location: src.Location()}
}

// describe names a certificate in a message: its source field, kubeadm name
// and subject.
func describe(c Cert) string {
	var b strings.Builder
	if c.Name != "" {
		b.WriteString(c.Name + " ")
	}
	if c.IsCA() {
		b.WriteString("CA ")
	} else {
		b.WriteString("certificate ")
	}
	fmt.Fprintf(&b, "%q", Subject(c.Certificate))
	if c.Source.Field != "" || c.Source.Kind == KindEndpoint {
		where := c.Source.Field
		if c.Source.Kind == KindEndpoint {
			where = "served by " + c.Source.Path
			if c.Source.Field != "" {
				where += " (" + c.Source.Field + ")"
			}
		}
		b.WriteString(" in " + where)
	}
	if c.Source.Index > 0 {
		fmt.Fprintf(&b, " (#%d of the bundle)", c.Source.Index+1)
	}
	return b.String()
}

// HumanDuration formats a duration in days and hours, e.g. "29d 23h", or
// "-3d 1h" for the past.
func HumanDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days := int64(d / Day)
	hours := int64((d % Day) / time.Hour)
	switch {
	case days > 0:
		return fmt.Sprintf("%s%dd %dh", sign, days, hours)
	case hours > 0:
		return fmt.Sprintf("%s%dh %dm", sign, hours, int64((d%time.Hour)/time.Minute))
	}
	return fmt.Sprintf("%s%dm", sign, int64(d/time.Minute))
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (j *judge) expiry() []finding.Finding {
	var out []finding.Finding
	for _, c := range j.inv.Certs {
		left := c.NotAfter.Sub(j.now)
		high, crit := j.p.LeafHigh, j.p.LeafCritical
		kind := "leaf"
		if c.IsCA() {
			high, crit, kind = j.p.CAHigh, j.p.CACritical, "CA"
		}
		fix := "Renew it and restart what uses it (for a kubeadm PKI: kubeadm certs renew with --config, so that the configured validity is used)."
		if c.IsCA() {
			fix = "Rotate the CA before it expires: issue a new CA, distribute a bundle with both CAs to every client and kubeconfig, re-issue every certificate it signed, restart the components, then remove the old CA from the bundles. shipshape does not rotate CAs."
		}
		switch {
		case j.now.Before(c.NotBefore):
			out = append(out, newFinding(ExpiryCheck, finding.Critical, c.Source,
				fmt.Sprintf("%s is not valid yet: valid from %s (in %s)", describe(c), stamp(c.NotBefore), HumanDuration(c.NotBefore.Sub(j.now))),
				"Check the clock of the machine that issued it and of the nodes; re-issue it with a NotBefore in the past."))
		case left <= 0:
			out = append(out, newFinding(ExpiryCheck, finding.Critical, c.Source,
				fmt.Sprintf("%s expired %s ago (%s)", describe(c), HumanDuration(-left), stamp(c.NotAfter)), fix))
		case left <= crit:
			out = append(out, newFinding(ExpiryCheck, finding.Critical, c.Source,
				fmt.Sprintf("%s expires in %s (%s); %s threshold %s", describe(c), HumanDuration(left), stamp(c.NotAfter), kind, HumanDuration(crit)), fix))
		case left <= high:
			out = append(out, newFinding(ExpiryCheck, finding.High, c.Source,
				fmt.Sprintf("%s expires in %s (%s); %s threshold %s", describe(c), HumanDuration(left), stamp(c.NotAfter), kind, HumanDuration(high)), fix))
		}
	}
	return out
}

// tolerance is how far two lifetimes may differ and still count as the
// same: kubeadm backdates NotBefore by five minutes, and issuers round.
func tolerance(d time.Duration) time.Duration { return max(time.Hour, d/100) }

func near(a, b time.Duration) bool {
	diff := a - b
	if diff < 0 {
		diff = -diff
	}
	return diff <= tolerance(max(a, b))
}

// unique returns the certificates once each (by SHA-256 of their DER),
// first occurrence first.
func unique(certs []Cert) []Cert {
	seen := make(map[[sha256.Size]byte]bool, len(certs))
	// Copies of one certificate parsed together share one *x509.Certificate:
	// those need no hash.
	same := make(map[*x509.Certificate]bool, len(certs))
	var out []Cert
	for _, c := range certs {
		if same[c.Certificate] {
			continue
		}
		same[c.Certificate] = true
		fp := sha256.Sum256(c.Raw)
		if !seen[fp] {
			seen[fp] = true
			out = append(out, c)
		}
	}
	return out
}

// nodeLeaf reports whether the intended leaf validity applies to c: a leaf
// found on a node (file or kubeconfig), not a kubelet certificate.
func nodeLeaf(c Cert) bool {
	return !c.IsCA() && (c.Source.Kind == KindFile || c.Source.Kind == KindKubeconfig) && !strings.HasPrefix(c.Name, "kubelet/")
}

func (j *judge) intended() (leaf, ca time.Duration, from string) {
	leaf, ca = j.p.ExpectValidity, j.p.ExpectCAValidity
	from = "--expect-validity"
	if kc := j.inv.KubeadmConfig; kc != nil {
		if leaf == 0 && kc.Leaf > 0 {
			leaf, from = kc.Leaf, "certificateValidityPeriod in "+kc.From
		}
		if ca == 0 && kc.CA > 0 {
			ca = kc.CA
		}
	}
	return leaf, ca, from
}

func (j *judge) lifetime() []finding.Finding {
	var out []finding.Finding
	leafWant, caWant, from := j.intended()
	flagged := map[string]bool{}
	certs := j.unique()
	for _, c := range certs {
		want, what := leafWant, from
		switch {
		case c.IsCA() && j.selfSigned(c) && caWant > 0 && (c.Source.Kind == KindFile || c.Source.Kind == KindKubeconfig):
			want, what = caWant, "the intended CA validity"
		case nodeLeaf(c) && leafWant > 0:
		default:
			continue
		}
		if !near(c.Lifetime(), want) {
			flagged[c.Fingerprint()] = true
			out = append(out, newFinding(LifetimeCheck, finding.High, c.Source,
				fmt.Sprintf("%s was issued for %s, but %s is %s", describe(c), HumanDuration(c.Lifetime()), what, HumanDuration(want)),
				"Re-issue it with the intended validity and find out why the issuer ignored it, before it expires early."))
		}
	}
	// cert-manager: the issued lifetime against the requested one, which
	// cert-manager itself does not compare.
	for _, r := range j.inv.Requested {
		for _, c := range j.inv.Certs {
			o := c.Source.Object
			if o == nil || o.Kind != "Secret" || o.Namespace != r.Namespace || o.Name != r.SecretName || c.Source.Field != "tls.crt" || c.Source.Index != 0 {
				continue
			}
			if !near(c.Lifetime(), r.Duration) {
				out = append(out, newFinding(LifetimeCheck, finding.High, c.Source,
					fmt.Sprintf("%s was issued for %s, but its cert-manager Certificate %s asks for %s", describe(c), HumanDuration(c.Lifetime()), r.Source.Object, HumanDuration(r.Duration)),
					"Check the issuer: many (ACME among them) ignore the requested duration. Set spec.duration to what the issuer grants, or use an issuer that honours it, and make sure renewBefore fits the real lifetime."))
			}
		}
	}
	// Siblings: leaves with the same issuer should have the same lifetime.
	groups := map[string][]Cert{}
	var keys []string
	for _, c := range certs {
		if c.IsCA() || strings.HasPrefix(c.Name, "kubelet/") {
			// The kubelet's certificates come from the controller manager's
			// signer with its own duration; they are no kubeadm siblings.
			continue
		}
		k := c.Source.Kind.group() + "\x00" + string(c.RawIssuer) + "\x00" + string(c.AuthorityKeyId)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], c)
	}
	for _, k := range keys {
		g := groups[k]
		if len(g) < 3 {
			continue
		}
		mode, n, tie := modeLifetime(g)
		if tie || n < 2 {
			continue
		}
		for _, c := range g {
			if near(c.Lifetime(), mode) || flagged[c.Fingerprint()] {
				continue
			}
			out = append(out, newFinding(LifetimeCheck, finding.High, c.Source,
				fmt.Sprintf("%s was issued for %s, but %d of its %d siblings from issuer %q were issued for %s", describe(c), HumanDuration(c.Lifetime()), n, len(g)-1, Issuer(c.Certificate), HumanDuration(mode)),
				"A lifetime unlike its siblings' usually means an installer or renewal ignored the configured validity; re-issue it with the intended validity before it expires early."))
		}
	}
	return out
}

// group keeps node certificates and API objects apart when grouping
// siblings: a Secret signed by the cluster CA is no sibling of the PKI's.
func (k SourceKind) group() string {
	if k == KindObject {
		return "object"
	}
	return "node"
}

// modeLifetime returns the most common lifetime (within tolerance) of the
// group, how many share it, and whether another lifetime is as common.
func modeLifetime(g []Cert) (mode time.Duration, n int, tie bool) {
	type bucket struct {
		d time.Duration
		n int
	}
	var bs []bucket
	for _, c := range g {
		found := false
		for i := range bs {
			if near(bs[i].d, c.Lifetime()) {
				bs[i].n++
				found = true
				break
			}
		}
		if !found {
			bs = append(bs, bucket{c.Lifetime(), 1})
		}
	}
	sort.SliceStable(bs, func(a, b int) bool { return bs[a].n > bs[b].n })
	if len(bs) > 1 && bs[1].n == bs[0].n {
		return 0, 0, true
	}
	return bs[0].d, bs[0].n, false
}

// expectedCA is the kubeadm CA that signs each kubeadm certificate.
var expectedCA = map[string]string{
	"apiserver":                "ca",
	"apiserver-kubelet-client": "ca",
	"admin.conf":               "ca",
	"super-admin.conf":         "ca",
	"controller-manager.conf":  "ca",
	"scheduler.conf":           "ca",
	"kubelet.conf":             "ca",
	"front-proxy-client":       "front-proxy-ca",
	"etcd/server":              "etcd/ca",
	"etcd/peer":                "etcd/ca",
	"etcd/healthcheck-client":  "etcd/ca",
	"apiserver-etcd-client":    "etcd/ca",
}

func (j *judge) byName() map[string]Cert {
	m := map[string]Cert{}
	for _, c := range j.inv.Certs {
		if c.Name != "" && c.Source.Index == 0 {
			if _, ok := m[c.Name]; !ok {
				m[c.Name] = c
			}
		}
	}
	return m
}

func (j *judge) chain() []finding.Finding {
	var out []finding.Finding
	names := j.byName()
	cas := []Cert{}
	for _, c := range j.unique() {
		if c.IsCA() {
			cas = append(cas, c)
		}
	}
	for _, c := range j.inv.Certs {
		if c.IsCA() && j.selfSigned(c) {
			continue
		}
		// A leaf must be signed by the kubeadm CA beside it.
		if want, ok := expectedCA[c.Name]; ok {
			if ca, ok := names[want]; ok && !j.inv.signedBy(c.Certificate, ca.Certificate) {
				out = append(out, newFinding(ChainCheck, finding.High, c.Source,
					fmt.Sprintf("%s does not verify to the CA beside it (%s, %q); it was issued by %q", describe(c), want, Subject(ca.Certificate), Issuer(c.Certificate)),
					"Re-issue it from "+want+"; components that trust "+want+" will reject it."))
				continue
			}
		}
		// Its issuer, when found, must not expire before it.
		for _, ca := range cas {
			if !j.issuedBy(c, ca) {
				continue
			}
			if c.NotAfter.After(ca.NotAfter) {
				out = append(out, newFinding(ChainCheck, finding.Medium, c.Source,
					fmt.Sprintf("%s (not after %s) outlives its issuing CA %q (not after %s): it stops verifying %s before its own expiry", describe(c), stamp(c.NotAfter), Subject(ca.Certificate), stamp(ca.NotAfter), HumanDuration(c.NotAfter.Sub(ca.NotAfter))),
					"Rotate the CA well before it expires, or re-issue the certificate no later than the CA's NotAfter."))
			}
			break
		}
	}
	out = append(out, j.secretChains()...)
	return out
}

// issuedBy reports whether ca issued c: by name and key identifier when
// both carry one (cheap), else by signature.
func (j *judge) issuedBy(c, ca Cert) bool {
	if string(ca.RawSubject) != string(c.RawIssuer) {
		return false
	}
	if len(c.AuthorityKeyId) > 0 && len(ca.SubjectKeyId) > 0 {
		return string(c.AuthorityKeyId) == string(ca.SubjectKeyId)
	}
	return j.inv.signedBy(c.Certificate, ca.Certificate)
}

// secretChains verifies a TLS Secret's tls.crt to the ca.crt beside it.
func (j *judge) secretChains() []finding.Finding {
	type bundle struct {
		leaf          *Cert
		intermediates []*x509.Certificate
		roots         []*x509.Certificate
	}
	type secretKey struct {
		object finding.Object
		path   string
	}
	// Bundles in the order their Secrets first appear, found by object.
	var bundles []bundle
	byObject := map[secretKey]int{}
	for i := range j.inv.Certs {
		c := &j.inv.Certs[i]
		if c.Source.Kind != KindObject || c.Source.Object == nil || c.Source.Object.Kind != "Secret" {
			continue
		}
		// The object as its String names it.
		k := secretKey{object: finding.Object{Kind: c.Source.Object.Kind, Namespace: c.Source.Object.Namespace, Name: c.Source.Object.Name}, path: c.Source.Path}
		n, ok := byObject[k]
		if !ok {
			n = len(bundles)
			byObject[k] = n
			bundles = append(bundles, bundle{})
		}
		b := &bundles[n]
		switch c.Source.Field {
		case "tls.crt":
			if c.Source.Index == 0 {
				b.leaf = c
			} else {
				b.intermediates = append(b.intermediates, c.Certificate)
			}
		case "ca.crt":
			b.roots = append(b.roots, c.Certificate)
		}
	}
	// Most leaves are signed directly by their ca.crt: check those
	// signatures on every CPU first (a Collector has made them already,
	// and they are looked up); only the rest build chains.
	direct := make([]bool, len(bundles))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(bundles)/50))
	var g errgroup.Group
	for w := range workers {
		g.Go(func() error {
			for i := w; i < len(bundles); i += workers {
				b := &bundles[i]
				if b.leaf == nil {
					continue
				}
				for _, r := range b.roots {
					if string(r.RawSubject) == string(b.leaf.RawIssuer) && j.inv.signedBy(b.leaf.Certificate, r) {
						direct[i] = true
						break
					}
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	var out []finding.Finding
	for i := range bundles {
		b := &bundles[i]
		if b.leaf == nil || len(b.roots) == 0 || direct[i] {
			continue
		}
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		for _, r := range b.roots {
			roots.AddCert(r)
		}
		for _, c := range b.intermediates {
			inter.AddCert(c)
		}
		// Verify the structure apart from expiry: the expiry check judges that.
		at := b.leaf.NotBefore.Add(b.leaf.NotAfter.Sub(b.leaf.NotBefore) / 2)
		_, err := b.leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			out = append(out, newFinding(ChainCheck, finding.High, b.leaf.Source,
				fmt.Sprintf("%s does not verify to the ca.crt beside it: %s", describe(*b.leaf), shortErr(err)),
				"Store the CA that issued tls.crt in ca.crt (or add the missing intermediates to tls.crt)."))
		}
	}
	return out
}

func (j *judge) keyMismatch() []finding.Finding {
	certs := make(map[sourceKey]*x509.Certificate, len(j.inv.Certs))
	for _, c := range j.inv.Certs {
		certs[keyOf(c.Source)] = c.Certificate
	}
	keys := make(map[sourceKey]Key, len(j.inv.Keys))
	for _, k := range j.inv.Keys {
		keys[keyOf(k.Source)] = k
	}
	var out []finding.Finding
	for _, p := range j.inv.Pairs {
		k, ok := keys[keyOf(p.Key)]
		if !ok {
			continue
		}
		if c, ok := certs[keyOf(p.Cert)]; ok {
			if !samePublicKey(c.PublicKey, k.Public) {
				out = append(out, newFinding(KeyMismatchCheck, finding.High, p.Cert,
					fmt.Sprintf("certificate %q does not match its private key %s", Subject(c), p.Key),
					"Put the key that belongs to the certificate next to it, or re-issue the certificate for the key; TLS with this pair fails."))
			}
			continue
		}
		if pub, ok := keys[keyOf(p.Cert)]; ok && !samePublicKey(pub.Public, k.Public) {
			out = append(out, newFinding(KeyMismatchCheck, finding.High, p.Cert,
				fmt.Sprintf("public key does not match the private key %s", p.Key),
				"Service-account tokens signed with the private key will not verify with the public key: restore the matching pair."))
		}
	}
	return out
}

// sourceKey identifies a Source by value without formatting it: what its
// String shows, its kind, and the object by its fields, not its pointer.
type sourceKey struct {
	kind   SourceKind
	path   string
	line   int
	object finding.Object
	field  string
	index  int
}

func keyOf(s Source) sourceKey {
	k := sourceKey{kind: s.Kind, path: s.Path, line: s.Line, field: s.Field, index: s.Index}
	if s.Object != nil {
		k.object = *s.Object
	}
	return k
}

func (j *judge) kubeconfigCA() []finding.Finding {
	ca, ok := j.byName()["ca"]
	if !ok {
		return nil
	}
	var out []finding.Finding
	for _, kc := range j.inv.Kubeconfigs {
		for _, c := range kc.CAs {
			if c.Source.Index > 0 {
				continue
			}
			match := false
			for _, other := range kc.CAs {
				if other.Source.Field == c.Source.Field && string(other.Raw) == string(ca.Raw) {
					match = true
				}
			}
			if !match {
				out = append(out, newFinding(KubeconfigCheck, finding.High, c.Source,
					fmt.Sprintf("certificate-authority-data %q is not the current cluster CA %q (%s)", Subject(c.Certificate), Subject(ca.Certificate), ca.Source.Path),
					"Replace the kubeconfig's certificate-authority-data with the current ca.crt (base64); clients using it cannot verify the API server."))
			}
		}
	}
	return out
}

// apiserverNames must be in the API server's serving certificate.
var apiserverNames = []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc"}

func (j *judge) apiserverSAN() []finding.Finding {
	var out []finding.Finding
	for _, c := range j.inv.Certs {
		if c.Source.Index > 0 || (c.Name != "apiserver" && !(c.Source.Kind == KindEndpoint && c.Source.Field == "apiserver")) {
			continue
		}
		var missing []string
		for _, n := range append(append([]string{}, apiserverNames...), j.inv.APIServerNames...) {
			if c.VerifyHostname(n) != nil && !contains(missing, n) {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			out = append(out, newFinding(APIServerSAN, finding.High, c.Source,
				fmt.Sprintf("%s has no SAN for %s", describe(c), strings.Join(missing, ", ")),
				"Re-issue the API server certificate with the missing names (kubeadm: apiServer.certSANs); clients connecting by those names fail TLS verification."))
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (j *judge) weak() []finding.Finding {
	var out []finding.Finding
	for _, c := range j.inv.Certs {
		if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
			out = append(out, newFinding(WeakCryptoCheck, finding.Medium, c.Source,
				fmt.Sprintf("%s has a %d-bit RSA key (under 2048)", describe(c), k.N.BitLen()),
				"Re-issue it with an RSA key of at least 2048 bits or an ECDSA P-256 key."))
		}
		switch c.SignatureAlgorithm {
		case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1, x509.MD5WithRSA, x509.MD2WithRSA:
			if !j.selfSigned(c) {
				out = append(out, newFinding(WeakCryptoCheck, finding.Medium, c.Source,
					fmt.Sprintf("%s is signed with %s", describe(c), c.SignatureAlgorithm),
					"Re-issue it with a SHA-256 (or stronger) signature; current clients reject SHA-1."))
			}
		}
	}
	return out
}

func (j *judge) unreadable() []finding.Finding {
	out := make([]finding.Finding, 0, len(j.inv.Problems))
	for _, p := range j.inv.Problems {
		msg := p.Reason
		if p.Source.Field != "" {
			msg = p.Source.Field + ": " + msg
		}
		if p.Source.Kind == KindEndpoint {
			msg = p.Source.Path + ": " + msg
		}
		out = append(out, newFinding(UnreadableCheck, p.Severity, p.Source, msg,
			"Fix or remove the file or value so that its certificates can be checked; nothing in it was judged."))
	}
	return out
}
